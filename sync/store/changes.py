"""The changes feed: one row per document at its latest sequence, read from `docs`.

Guarantees: the feed is read inside one snapshot, so `last_seq` and the rows agree; a
document appears once, at the seq of its last update; `_local` documents never appear.
`wait_for_write` is the long-poll's wake-up: it returns as soon as any connection — in
this process or another — commits (SQLite's `data_version` changes), checking every few
milliseconds, or when the in-process writer signals.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sync import revtree
from sync.errors import BadRequest
from sync.store import query
from sync.store.crypto import Cipher
from sync.store.documents import render
from sync.store.writes import decode_tree, open_body

POLL_SECONDS = 0.005


@dataclass(frozen=True, slots=True)
class ChangesRequest:
    since: int
    limit: int | None
    all_docs: bool
    include_docs: bool
    doc_ids: list[str] | None
    selector: query.Node | None
    conflicts: bool
    descending: bool


def parse_since(since: object, update_seq: Callable[[], int]) -> int:
    if since == "now":
        return update_seq()
    if isinstance(since, str) and since.isdigit():
        return int(since)
    if isinstance(since, int) and not isinstance(since, bool) and since >= 0:
        return since
    raise BadRequest(f"since must be a non-negative integer or 'now', not {since!r}")


def read_changes(
    conn: sqlite3.Connection, cipher: Cipher | None, request: ChangesRequest
) -> dict[str, Any]:
    """The feed after `since` in seq order (in one snapshot: `conn` is in a transaction)."""
    update_seq = int(conn.execute("SELECT value FROM meta WHERE key = 'update_seq'").fetchone()[0])
    need_body = request.include_docs or request.selector is not None
    columns = "d.doc_id, d.seq, d.winner, d.deleted, d.tree"
    columns += ", r.data" if need_body else ", NULL"
    join = " LEFT JOIN revs r ON r.doc_id = d.doc_id AND r.rev = d.winner" if need_body else ""
    sql = f"SELECT {columns} FROM docs d{join} WHERE d.seq > ?"  # noqa: S608
    params: list[Any] = [request.since]
    if request.doc_ids is not None:
        sql += " AND d.doc_id IN (SELECT value FROM json_each(?))"
        params.append(_json_list(request.doc_ids))
    sql += " ORDER BY d.seq DESC" if request.descending else " ORDER BY d.seq"
    if request.limit is not None and request.selector is None:
        sql += " LIMIT ?"
        params.append(request.limit)
    results: list[dict[str, Any]] = []
    for doc_id, seq, winner, deleted, tree_data, data in conn.execute(sql, params):
        if request.limit is not None and len(results) >= request.limit:
            break
        doc = None
        if need_body:
            doc = plain_doc(cipher, doc_id, winner, data, bool(deleted)) if data else None
            if request.selector is not None and (
                doc is None or deleted or not query.matches(request.selector, doc)
            ):
                continue
        results.append(_row(request, doc_id, seq, winner, bool(deleted), tree_data, doc))
    full = request.limit is not None and len(results) >= request.limit
    last_seq = results[-1]["seq"] if results and (full or request.descending) else update_seq
    return {"results": results, "last_seq": last_seq}


def _json_list(items: list[str]) -> str:
    if not all(isinstance(item, str) for item in items):
        raise BadRequest("doc_ids must be a list of strings")
    return json.dumps(items)


def _row(
    request: ChangesRequest,
    doc_id: str,
    seq: int,
    winner: str,
    deleted: bool,
    tree_data: bytes,
    doc: dict[str, Any] | None,
) -> dict[str, Any]:
    row: dict[str, Any] = {"seq": seq, "id": doc_id}
    tree = decode_tree(tree_data) if request.all_docs or request.conflicts else None
    if request.all_docs and tree is not None:
        row["changes"] = [{"rev": leaf.rev} for leaf in revtree.leaves(tree)]
    else:
        row["changes"] = [{"rev": winner}]
    if deleted:
        row["deleted"] = True
    if request.include_docs:
        if doc is not None and request.conflicts and tree is not None:
            found = revtree.conflicts(tree)
            if found:
                doc["_conflicts"] = found
        row["doc"] = doc
    return row


def plain_doc(
    cipher: Cipher | None, doc_id: str, rev: str, data: bytes, deleted: bool
) -> dict[str, Any]:
    body, meta = open_body(cipher, doc_id, rev, data)
    doc = render(doc_id, rev, body, deleted)
    if meta:
        doc["_attachments"] = {name: {**att, "stub": True} for name, att in meta.items()}
    return doc


class WriteSignal:
    """Wakes long-poll readers: in-process by a condition, across processes by polling."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._generation = 0

    def notify(self) -> None:
        with self._condition:
            self._generation += 1
            self._condition.notify_all()

    def token(self, conn: sqlite3.Connection) -> tuple[int, int]:
        """A mark to take *before* reading, so a write after the read is never missed."""
        with self._condition:
            generation = self._generation
        return conn.execute("PRAGMA data_version").fetchone()[0], generation

    def wait_for_write(
        self, conn: sqlite3.Connection, token: tuple[int, int], deadline: float
    ) -> bool:
        """Block until a commit since `token` by any connection, or until the deadline."""
        version, generation = token
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._condition:
                if self._generation == generation:
                    self._condition.wait(min(POLL_SECONDS, remaining))
                if self._generation != generation:
                    return True
            if conn.execute("PRAGMA data_version").fetchone()[0] != version:
                return True
