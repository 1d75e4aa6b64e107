"""A Mango selector matcher, for filtering a feed locally when the source cannot.

CouchDB filters `_changes` by selector itself (`filter=_selector`); PouchDB Server cannot
(and dies on the request), so the replicator asks it for the documents and applies the
selector here. Covers CouchDB's combination and condition operators except `$mod`-style
arithmetic beyond `$mod`, `$regex` uses Python's `re.search`. An unknown operator is a
`BadRequest` naming it, raised before anything is replicated (`validate`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from sync.errors import BadRequest

_MISSING = object()

_COMBINATORS = {"$and", "$or", "$nor", "$not"}
_CONDITIONS = {
    "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$type",
    "$size", "$all", "$elemMatch", "$allMatch", "$regex", "$mod",
}


def _type_rank(value: Any) -> int:
    # CouchDB collation: null < false/true < numbers < strings < arrays < objects
    if value is None:
        return 0
    if isinstance(value, bool):
        return 1
    if isinstance(value, int | float):
        return 2
    if isinstance(value, str):
        return 3
    if isinstance(value, list):
        return 4
    return 5


def _compare(a: Any, b: Any) -> int:
    ra, rb = _type_rank(a), _type_rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if ra in (2, 3, 1):
        return int(a > b) - int(a < b)
    if ra == 4:
        for x, y in zip(a, b, strict=False):
            c = _compare(x, y)
            if c:
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    return 0 if a == b else (1 if repr(a) > repr(b) else -1)


def _field(doc: Any, path: str) -> Any:
    value = doc
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return _MISSING
    return value


def _json_type(value: Any) -> str:
    names = ["null", "boolean", "number", "string", "array", "object"]
    return names[_type_rank(value)]


def _condition(op: str, arg: Any, value: Any) -> bool:
    if op == "$exists":
        return (value is not _MISSING) == bool(arg)
    if value is _MISSING:
        return op in ("$ne", "$nin")
    simple: dict[str, Callable[[], bool]] = {
        "$eq": lambda: _compare(value, arg) == 0,
        "$ne": lambda: _compare(value, arg) != 0,
        "$gt": lambda: _type_rank(value) == _type_rank(arg) and _compare(value, arg) > 0,
        "$gte": lambda: _type_rank(value) == _type_rank(arg) and _compare(value, arg) >= 0,
        "$lt": lambda: _type_rank(value) == _type_rank(arg) and _compare(value, arg) < 0,
        "$lte": lambda: _type_rank(value) == _type_rank(arg) and _compare(value, arg) <= 0,
        "$in": lambda: any(_compare(value, a) == 0 for a in arg),
        "$nin": lambda: all(_compare(value, a) != 0 for a in arg),
        "$type": lambda: _json_type(value) == arg,
        "$size": lambda: isinstance(value, list) and len(value) == arg,
        "$all": lambda: isinstance(value, list) and all(a in value for a in arg),
        "$regex": lambda: isinstance(value, str) and re.search(arg, value) is not None,
        "$mod": lambda: isinstance(value, int) and value % arg[0] == arg[1],
        "$elemMatch": lambda: isinstance(value, list) and any(_match(v, arg) for v in value),
        "$allMatch": lambda: isinstance(value, list) and all(_match(v, arg) for v in value),
    }
    return bool(simple[op]())


def _combine(op: str, results: list[bool]) -> bool:
    if op == "$and":
        return all(results)
    if op == "$or":
        return any(results)
    return not any(results)


def _match_field(value: Any, spec: Any) -> bool:
    if isinstance(spec, Mapping) and spec and all(k.startswith("$") for k in spec):
        for op, arg in spec.items():
            if op == "$not":
                if _match_field(value, arg):
                    return False
            elif op in ("$and", "$or", "$nor"):
                results = [_match_field(value, s) for s in arg]
                if not _combine(op, results):
                    return False
            elif not _condition(op, arg, value):
                return False
        return True
    if isinstance(spec, Mapping) and spec:  # nested field selector
        return all(_match_field(_field(value, k), v) for k, v in spec.items())
    return _condition("$eq", spec, value)


def _match(doc: Any, selector: Mapping[str, Any]) -> bool:
    for key, spec in selector.items():
        if key == "$and":
            if not all(_match(doc, s) for s in spec):
                return False
        elif key == "$or":
            if not any(_match(doc, s) for s in spec):
                return False
        elif key == "$nor":
            if any(_match(doc, s) for s in spec):
                return False
        elif key == "$not":
            if _match(doc, spec):
                return False
        elif key.startswith("$"):
            if not _condition(key, spec, doc):
                return False
        elif not _match_field(_field(doc, key), spec):
            return False
    return True


def validate(selector: Any) -> Mapping[str, Any]:
    """Check every operator is known; returns the selector or raises BadRequest."""
    if not isinstance(selector, Mapping):
        raise BadRequest(f"selector must be a JSON object, not {type(selector).__name__}")

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key.startswith("$") and key not in _COMBINATORS | _CONDITIONS:
                    raise BadRequest(f"unknown selector operator {key!r}")
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(selector)
    return selector


def matches(doc: Mapping[str, Any], selector: Mapping[str, Any]) -> bool:
    """True when `doc` satisfies `selector` (CouchDB semantics, collation order)."""
    return _match(doc, selector)
