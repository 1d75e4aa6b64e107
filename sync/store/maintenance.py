"""Whole-database operations: compaction, purge, index declaration, and queries.

Each function runs inside the caller's transaction (write or read), so each is atomic.
* compact: bodies of non-leaf revisions are deleted and the trees mark them unavailable
  (`revtree.compactable` / `revtree.compacted`); attachment blobs no stored revision
  refers to are deleted with their chunks.
* purge: the named leaves and the ancestors left without descendants disappear entirely
  (`revtree.purge`); a document with nothing left leaves the feed; one with revisions
  left gets a new seq, since its winner may have changed.
* indexes: declared fields of each live winner are copied into `fields` (plaintext, so
  only fields declared on purpose), kept up to date by every write.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

from sync import revtree
from sync.errors import BadRequest
from sync.store import query
from sync.store.crypto import Cipher
from sync.store.schema import meta_int, read_meta, write_meta
from sync.store.writes import decode_tree, encode_tree, read_rev

Loader = Callable[[str, str, revtree.RevTree], dict[str, Any] | None]


def _indexes(conn: sqlite3.Connection) -> dict[str, list[str]]:
    raw = read_meta(conn, "indexes")
    return json.loads(str(raw)) if raw else {}


@functools.lru_cache(maxsize=32)
def _fields_of(raw: str) -> tuple[str, ...]:
    fields: dict[str, None] = {}
    for names in json.loads(raw).values():
        fields.update(dict.fromkeys(names))
    return tuple(fields)


def declared_indexes(conn: sqlite3.Connection) -> list[str]:
    """Every field some declared index covers (read on every write: one small row)."""
    raw = read_meta(conn, "indexes")
    return list(_fields_of(str(raw))) if raw else []


def create_index(
    conn: sqlite3.Connection, cipher: Cipher | None, fields: list[str], name: str | None
) -> dict[str, Any]:
    indexes = _indexes(conn)
    name = name or "idx-" + "-".join(fields)
    if indexes.get(name) == fields:
        return {"result": "exists", "id": name, "name": name}
    before = set(declared_indexes(conn))
    indexes[name] = fields
    write_meta(conn, "indexes", json.dumps(indexes))
    new_fields = [f for f in fields if f not in before]
    if new_fields:
        rows = conn.execute("SELECT doc_id, winner FROM docs WHERE deleted = 0").fetchall()
        for doc_id, winner in rows:
            _index_doc(conn, cipher, doc_id, winner, new_fields)
    return {"result": "created", "id": name, "name": name}


def _index_doc(
    conn: sqlite3.Connection, cipher: Cipher | None, doc_id: str, rev: str, fields: list[str]
) -> None:
    stored = read_rev(conn, cipher, doc_id, rev)
    if stored is None:
        return
    doc = {"_id": doc_id, **stored[0]}
    conn.executemany(
        "INSERT INTO fields(doc_id, field, rank, value) VALUES (?, ?, ?, ?)",
        query.index_rows(doc_id, doc, fields),
    )


def reindex(
    conn: sqlite3.Connection, cipher: Cipher | None, doc_ids: list[str], fields: list[str]
) -> None:
    """Refresh the index rows of `doc_ids` from their current winners."""
    for doc_id in doc_ids:
        conn.execute("DELETE FROM fields WHERE doc_id = ?", (doc_id,))
        row = conn.execute(
            "SELECT winner, deleted FROM docs WHERE doc_id = ?", (doc_id,)
        ).fetchone()
        if row is not None and not row[1]:
            _index_doc(conn, cipher, doc_id, row[0], fields)


def compact(conn: sqlite3.Connection) -> None:
    candidates = conn.execute(
        "SELECT doc_id FROM revs GROUP BY doc_id HAVING COUNT(*) > 1"
    ).fetchall()
    for (doc_id,) in candidates:
        tree = decode_tree(
            conn.execute("SELECT tree FROM docs WHERE doc_id = ?", (doc_id,)).fetchone()[0]
        )
        dropped = [(doc_id, rev) for rev in revtree.compactable(tree)]
        conn.executemany("DELETE FROM revs WHERE doc_id = ? AND rev = ?", dropped)
        conn.executemany("DELETE FROM rev_atts WHERE doc_id = ? AND rev = ?", dropped)
        conn.execute(
            "UPDATE docs SET tree = ? WHERE doc_id = ?",
            (encode_tree(revtree.compacted(tree)), doc_id),
        )
    conn.execute("DELETE FROM blobs WHERE id NOT IN (SELECT blob_id FROM rev_atts)")
    conn.execute("DELETE FROM chunks WHERE blob_id NOT IN (SELECT id FROM blobs)")


def purge(
    conn: sqlite3.Connection,
    cipher: Cipher | None,
    request: Mapping[str, list[str]],
    fields: list[str],
) -> dict[str, Any]:
    purge_seq = meta_int(conn, "purge_seq")
    update_seq = meta_int(conn, "update_seq")
    purged: dict[str, list[str]] = {}
    for doc_id, revs in request.items():
        row = conn.execute("SELECT tree FROM docs WHERE doc_id = ?", (doc_id,)).fetchone()
        if row is None:
            purged[doc_id] = []
            continue
        tree, removed = revtree.purge(decode_tree(row[0]), revs)
        purged[doc_id] = list(removed)
        if not removed:
            continue
        purge_seq += 1
        keep = revtree.all_revs(tree)
        gone = [
            (doc_id, rev)
            for (rev,) in conn.execute("SELECT rev FROM revs WHERE doc_id = ?", (doc_id,))
            if rev not in keep
        ]
        conn.executemany("DELETE FROM revs WHERE doc_id = ? AND rev = ?", gone)
        conn.executemany("DELETE FROM rev_atts WHERE doc_id = ? AND rev = ?", gone)
        if not tree:
            conn.execute("DELETE FROM docs WHERE doc_id = ?", (doc_id,))
        else:
            update_seq += 1
            winner = revtree.winning_leaf(tree)
            conn.execute(
                "UPDATE docs SET tree = ?, winner = ?, deleted = ?, seq = ? WHERE doc_id = ?",
                (encode_tree(tree), winner.rev, int(winner.deleted), update_seq, doc_id),
            )
    write_meta(conn, "purge_seq", purge_seq)
    write_meta(conn, "update_seq", update_seq)
    if fields:
        reindex(conn, cipher, list(purged), fields)
    return {"purge_seq": purge_seq, "purged": purged}


def find(
    conn: sqlite3.Connection,
    cipher: Cipher | None,
    indexed: list[str],
    selector: Mapping[str, Any],
    sort: list[Any] | None,
    limit: int | None,
    skip: int,
    load: Loader,
) -> list[dict[str, Any]]:
    """Mango `_find` over the index table; bodies are read only for the answer."""
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise BadRequest(f"limit must be a non-negative integer, not {limit!r}")
    if not isinstance(skip, int) or skip < 0:
        raise BadRequest(f"skip must be a non-negative integer, not {skip!r}")
    node = query.parse(selector)
    matching, params = query.to_sql(node, indexed)
    sort_fields, descending = query.order_by(sort, indexed)
    direction = " DESC" if descending else ""
    joins, join_params, order = "", [], []
    for i, name in enumerate(sort_fields):
        joins += f" JOIN fields s{i} ON s{i}.doc_id = d.doc_id AND s{i}.field = ?"
        join_params.append(name)
        order += [f"s{i}.rank{direction}", f"s{i}.value{direction}"]
    order.append(f"d.doc_id{direction}")
    sql = (
        f"SELECT d.doc_id, d.winner, d.tree FROM docs d{joins} "  # noqa: S608
        f"WHERE d.deleted = 0 AND d.doc_id IN ({matching}) "
        f"ORDER BY {', '.join(order)} LIMIT ? OFFSET ?"
    )
    rows = conn.execute(sql, [*join_params, *params, -1 if limit is None else limit, skip])
    docs = []
    for doc_id, winner, tree in rows.fetchall():
        doc = load(doc_id, winner, decode_tree(tree))
        if doc is not None:
            docs.append(doc)
    return docs
