"""`_local/` documents: a rev `0-N` counter, no history, never in the feed or replication.

A write must name the current rev (`0-N`, or none for a new document), else Conflict —
as CouchDB does, so two replicators cannot silently overwrite each other's checkpoints.
Bodies are sealed like any other when the database is encrypted.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

import msgspec

from sync.errors import BadRequest, Conflict, NotFound
from sync.store.crypto import Cipher, local_aad
from sync.store.documents import check_local_id


def read_local(conn: sqlite3.Connection, cipher: Cipher | None, doc_id: str) -> dict[str, Any]:
    check_local_id(doc_id)
    row = conn.execute("SELECT rev, data FROM local_docs WHERE doc_id = ?", (doc_id,)).fetchone()
    if row is None:
        raise NotFound("missing")
    data = row[1] if cipher is None else cipher.open(row[1], local_aad(doc_id))
    return {"_id": doc_id, "_rev": f"0-{row[0]}", **msgspec.json.decode(data)}


def write_local(
    conn: sqlite3.Connection, cipher: Cipher | None, doc: Mapping[str, Any]
) -> dict[str, Any]:
    if not isinstance(doc, Mapping):
        raise BadRequest("a local document must be a JSON object")
    doc_id = check_local_id(doc.get("_id"))
    row = conn.execute("SELECT rev FROM local_docs WHERE doc_id = ?", (doc_id,)).fetchone()
    current = None if row is None else int(row[0])
    given = local_rev(doc.get("_rev"))
    if given != current and not (current is None and given == 0):
        shown = "none" if current is None else f"0-{current}"
        raise Conflict(f"document update conflict on {doc_id!r}: current rev is {shown}")
    if doc.get("_deleted") is True:
        if current is None:
            raise NotFound("missing")
        conn.execute("DELETE FROM local_docs WHERE doc_id = ?", (doc_id,))
        return {"ok": True, "id": doc_id, "rev": "0-0"}
    body = {k: v for k, v in doc.items() if not k.startswith("_")}
    try:
        data = msgspec.json.encode(body)
    except (TypeError, msgspec.EncodeError, RecursionError) as exc:
        raise BadRequest(f"local document is not valid JSON: {exc}") from None
    sealed = data if cipher is None else cipher.seal(data, local_aad(doc_id))
    new = (current or 0) + 1
    conn.execute(
        "INSERT OR REPLACE INTO local_docs(doc_id, rev, data) VALUES (?, ?, ?)",
        (doc_id, new, sealed),
    )
    return {"ok": True, "id": doc_id, "rev": f"0-{new}"}


def local_rev(rev: object) -> int:
    if rev is None:
        return 0
    if isinstance(rev, str) and rev.startswith("0-") and rev[2:].isdigit():
        return int(rev[2:])
    raise BadRequest(f"local document rev must look like 0-N, not {rev!r}")
