"""A small Mango: selectors over declared index fields, translated to SQL; and a matcher.

Pure: no database here. `parse` turns a selector into a tree of conditions (nested objects
and dotted names become field paths; several members mean `$and`); `to_sql` turns the
tree into a set expression over the `fields` table — one indexed range scan per
condition, combined with INTERSECT / UNION / EXCEPT — so a query never reads bodies;
`matches` evaluates the same tree on a document in memory (for the changes filter).

Values compare in CouchDB's collation order across types: null < false < true < numbers
< strings < arrays < objects; strings compare by code point (not ICU). Each field value
is stored as (rank, value) so one index orders them all.

Supported operators: $eq $ne $gt $gte $lt $lte $in $exists $and $or. A selector that
names a field not declared as an index is refused with a BadRequest saying so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sync.errors import BadRequest

_COMPARE = {"$eq": "=", "$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
FIELD_OPS = frozenset({*_COMPARE, "$ne", "$in", "$exists"})
LIVE_DOCS = "SELECT doc_id FROM docs WHERE deleted = 0"


@dataclass(frozen=True, slots=True)
class Cond:
    field: str
    op: str
    arg: Any


@dataclass(frozen=True, slots=True)
class Combine:
    op: str  # "$and" | "$or"
    parts: tuple[Node, ...]


Node = Cond | Combine


def rank_of(value: Any) -> tuple[int, Any]:
    """The (type rank, comparable value) of a JSON value in CouchDB's collation."""
    if value is None:
        return 0, None
    if isinstance(value, bool):
        return 1, int(value)
    if isinstance(value, int | float):
        return 2, value
    if isinstance(value, str):
        return 3, value
    if isinstance(value, list):
        return 4, None
    if isinstance(value, Mapping):
        return 5, None
    raise BadRequest(f"not a JSON value: {value!r}")


def lookup(doc: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    """The value at a dotted path, and whether it is there at all."""
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return False, None
        value = value[part]
    return True, value


def index_rows(
    doc_id: str, doc: Mapping[str, Any], fields: Iterable[str]
) -> list[tuple[str, str, int, Any]]:
    """Rows for the `fields` table: (doc_id, field, rank, value) for each present field."""
    rows = []
    for path in fields:
        found, value = lookup(doc, path)
        if found:
            rank, comparable = rank_of(value)
            rows.append((doc_id, path, rank, comparable))
    return rows


# --- parsing ------------------------------------------------------------------------------


def parse(selector: object, prefix: str = "") -> Node:
    if not isinstance(selector, Mapping):
        raise BadRequest(f"a selector must be a JSON object, not {selector!r}")
    parts: list[Node] = []
    for key, value in selector.items():
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not value:
                raise BadRequest(f"{key} takes a non-empty list of selectors")
            parts.append(Combine(key, tuple(parse(item, prefix) for item in value)))
        elif key.startswith("$"):
            if not prefix:
                raise BadRequest(f"operator {key} needs a field")
            parts.append(_cond(prefix, key, value))
        else:
            parts.append(_field(f"{prefix}.{key}" if prefix else key, value))
    return parts[0] if len(parts) == 1 else Combine("$and", tuple(parts))


def _field(path: str, value: Any) -> Node:
    if isinstance(value, Mapping) and value:
        if all(str(k).startswith("$") for k in value):
            conds = [_cond(path, op, arg) for op, arg in value.items()]
            return conds[0] if len(conds) == 1 else Combine("$and", tuple(conds))
        if any(str(k).startswith("$") for k in value):
            raise BadRequest(f"field {path!r}: do not mix operators and sub-fields")
        return parse(value, path)
    return _cond(path, "$eq", value)


def _cond(path: str, op: str, arg: Any) -> Cond:
    if op in ("$and", "$or"):
        raise BadRequest(f"field {path!r}: put {op} above the field, not inside it")
    if op not in FIELD_OPS:
        raise BadRequest(f"unsupported operator {op} (supported: {', '.join(sorted(FIELD_OPS))})")
    if op == "$exists":
        if not isinstance(arg, bool):
            raise BadRequest(f"$exists takes true or false, not {arg!r}")
    elif op == "$in":
        if not isinstance(arg, list):
            raise BadRequest(f"$in takes a list, not {arg!r}")
        for item in arg:
            _scalar(path, op, item)
    else:
        _scalar(path, op, arg)
    return Cond(path, op, arg)


def _scalar(path: str, op: str, arg: Any) -> None:
    if isinstance(arg, list | Mapping) or rank_of(arg)[0] >= 4:
        raise BadRequest(f"field {path!r}: {op} compares scalar values only, not {arg!r}")


def fields_of(node: Node) -> set[str]:
    if isinstance(node, Cond):
        return {node.field}
    return set().union(*(fields_of(part) for part in node.parts)) if node.parts else set()


# --- SQL ----------------------------------------------------------------------------------


def to_sql(node: Node, indexed: Iterable[str]) -> tuple[str, list[Any]]:
    """A `SELECT doc_id …` of the live documents matching `node`, with its parameters."""
    missing = sorted(fields_of(node) - set(indexed))
    if missing:
        raise BadRequest(
            f"no index on {', '.join(missing)}: declare it with create_index before querying"
        )
    params: list[Any] = []
    return _sql(node, params), params


def _sql(node: Node, params: list[Any]) -> str:
    if isinstance(node, Combine):
        if not node.parts:
            return LIVE_DOCS
        glue = " INTERSECT " if node.op == "$and" else " UNION "
        return glue.join(
            f"SELECT doc_id FROM ({_sql(part, params)})"  # noqa: S608 - built from constants
            for part in node.parts
        )
    if node.op == "$exists" and not node.arg:
        params.append(node.field)
        return f"{LIVE_DOCS} EXCEPT SELECT doc_id FROM fields WHERE field = ?"  # noqa: S608
    params.append(node.field)
    predicate = _predicate(node, params)  # SQL text from constants; values are parameters
    return f"SELECT doc_id FROM fields WHERE field = ? AND {predicate}"  # noqa: S608


def _predicate(cond: Cond, params: list[Any]) -> str:
    if cond.op == "$exists":
        return "1"
    if cond.op == "$in":
        if not cond.arg:
            return "0"
        return "(" + " OR ".join(_compare("$eq", item, params) for item in cond.arg) + ")"
    if cond.op == "$ne":
        return f"NOT ({_compare('$eq', cond.arg, params)})"
    return _compare(cond.op, cond.arg, params)


def _compare(op: str, arg: Any, params: list[Any]) -> str:
    rank, value = rank_of(arg)
    if value is None:  # null: only the rank matters
        params.append(rank)
        return f"rank {_COMPARE[op]} ?"
    params.extend((rank, value))
    if op == "$eq":
        return "(rank = ? AND value = ?)"
    # Row values compare rank first, then value: CouchDB's cross-type collation.
    return f"(rank, value) {_COMPARE[op]} (?, ?)"


def order_by(sort: object, indexed: Iterable[str]) -> tuple[list[str], bool]:
    """Mango `sort` as (fields, descending); every field indexed, one direction."""
    if sort is None:
        return [], False
    if not isinstance(sort, list):
        raise BadRequest("sort must be a list of field names or {field: 'asc'|'desc'}")
    fields: list[str] = []
    directions: set[str] = set()
    for item in sort:
        if isinstance(item, str):
            fields.append(item)
            directions.add("asc")
        elif isinstance(item, Mapping) and len(item) == 1:
            (name, direction), = item.items()
            if direction not in ("asc", "desc"):
                raise BadRequest(f"sort direction must be 'asc' or 'desc', not {direction!r}")
            fields.append(str(name))
            directions.add(direction)
        else:
            raise BadRequest(f"bad sort item {item!r}")
    if len(directions) > 1:
        raise BadRequest("all sort fields must use the same direction")
    missing = sorted(set(fields) - set(indexed))
    if missing:
        raise BadRequest(f"cannot sort on {', '.join(missing)}: it is not an indexed field")
    return fields, directions == {"desc"}


# --- in memory ----------------------------------------------------------------------------


def matches(node: Node, doc: Mapping[str, Any]) -> bool:
    if isinstance(node, Combine):
        results = (matches(part, doc) for part in node.parts)
        return all(results) if node.op == "$and" else any(results)
    found, value = lookup(doc, node.field)
    if node.op == "$exists":
        return bool(found == node.arg)
    if not found:
        return False
    if node.op == "$in":
        return any(_holds("$eq", value, item) for item in node.arg)
    if node.op == "$ne":
        return not _holds("$eq", value, node.arg)
    return _holds(node.op, value, node.arg)


def _holds(op: str, value: Any, arg: Any) -> bool:
    (left_rank, left), (right_rank, right) = rank_of(value), rank_of(arg)
    if left_rank != right_rank:
        ordering = 1 if left_rank > right_rank else -1
    elif left is None or right is None:
        # null equals null; arrays and objects are only equal or unordered.
        if value != arg:
            return False
        ordering = 0
    else:
        ordering = (left > right) - (left < right)
    return {
        "$eq": ordering == 0,
        "$gt": ordering > 0,
        "$gte": ordering >= 0,
        "$lt": ordering < 0,
        "$lte": ordering <= 0,
    }[op]
