"""Malformed input gets a clear error of the right kind and leaves the database unchanged.

"Unchanged" is checked twice: the database file and its WAL are byte-for-byte the same,
and the content (documents, feed, local documents) reads the same.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sync.errors import BadRequest, Conflict, DocumentError, MissingStub, NotFound, TooLarge
from sync.store import Database, Limits, Store

R1 = "1-" + "a" * 32


def fingerprint(db: Database) -> str:
    digest = hashlib.sha256()
    for suffix in ("", "-wal"):
        path = Path(f"{db.path}{suffix}")
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()


def content(db: Database) -> Any:
    return (
        db.all_docs(include_docs=True),
        db.changes(style="all_docs"),
        db.get_local("_local/cp"),
        db.info()["update_seq"],
    )


@pytest.fixture
def filled(tmp_path: Path) -> Database:
    store = Store(tmp_path / "data",
                  limits=Limits(max_document_bytes=10_000, max_attachment_bytes=1_000))
    db = store.create("test")
    db.put({"_id": "existing", "tên": "Lê Văn Tám"})
    db.put_local({"_id": "_local/cp", "seq": 1})
    # Reopened, so no background checkpoint of these writes can change the file's bytes
    # while a test compares them (a refused write must not start one either).
    db.close()
    return store.open("test")


BAD: list[tuple[str, Callable[[Database], Any], type[DocumentError], str]] = [
    ("bad JSON", lambda db: db.put(b'{"_id": "x", "a": '), BadRequest, "invalid JSON"),
    ("JSON not an object", lambda db: db.put(b"[1, 2]"), BadRequest, "JSON object"),
    ("string body", lambda db: db.put("\"just text\""), BadRequest, "JSON object"),
    ("number body", lambda db: db.post(42), BadRequest, "JSON object"),  # type: ignore[arg-type]
    ("bad rev", lambda db: db.put({"_id": "x", "_rev": "abc"}), BadRequest, "Invalid rev"),
    ("rev with zero", lambda db: db.put({"_id": "x", "_rev": "0-abc"}), BadRequest, "Invalid rev"),
    ("rev not a string", lambda db: db.put({"_id": "x", "_rev": 7}), BadRequest, "Invalid rev"),
    ("stale rev", lambda db: db.put({"_id": "existing", "_rev": R1}), Conflict, "conflict"),
    ("underscore id", lambda db: db.put({"_id": "_users"}), BadRequest, "underscore"),
    ("underscore id in bulk", lambda db: _raise(db.bulk_docs([{"_id": "_all_docs"}])),
     BadRequest, "underscore"),
    ("huge id", lambda db: db.put({"_id": "x" * 100_000}), BadRequest, "limit is 1024"),
    ("id not a string", lambda db: db.put({"_id": ["x"]}), BadRequest, "must be a string"),
    ("NaN in body", lambda db: db.put({"_id": "x", "v": math.nan}), BadRequest, "not valid JSON"),
    ("unknown special", lambda db: db.put({"_id": "x", "_secret": 1}), BadRequest, "_secret"),
    ("bad _revisions", lambda db: _raise(db.bulk_docs(
        [{"_id": "x", "_rev": "2-b", "_revisions": {"start": 2, "ids": ["c", "a"]}}],
        new_edits=False)), BadRequest, "does not match"),
    ("_revisions too short", lambda db: _raise(db.bulk_docs(
        [{"_id": "x", "_rev": "1-b", "_revisions": {"start": 1, "ids": ["b", "a"]}}],
        new_edits=False)), BadRequest, "smaller than"),
    ("no rev with new_edits=false", lambda db: _raise(db.bulk_docs([{"_id": "x"}],
                                                                   new_edits=False)),
     BadRequest, "needs a _rev"),
    ("bulk_docs not a list", lambda db: db.bulk_docs({"docs": []}), BadRequest, "list"),  # type: ignore[arg-type]
    ("bad base64", lambda db: db.put({"_id": "x", "_attachments": {"a": {"data": "%%%"}}}),
     BadRequest, "base64"),
    ("base64 padded past its last group", lambda db: db.put(
        {"_id": "x", "_attachments": {"a": {"data": "YWJj="}}}), BadRequest, "base64"),
    ("base64 with a line break", lambda db: db.put(
        {"_id": "x", "_attachments": {"a": {"data": "YWJj\nZGVm"}}}), BadRequest, "base64"),
    ("missing stub", lambda db: db.put({"_id": "x", "_attachments": {"a": {"stub": True}}}),
     MissingStub, "stub"),
    ("too large", lambda db: db.put({"_id": "x", "v": "x" * 20_000}), TooLarge, "limit"),
    ("attachment too large", lambda db: db.put({"_id": "x", "_attachments": {"a": {
        "content_type": "image/jpeg", "data": base64.b64encode(b"x" * 1_001).decode()}}}),
     TooLarge, "limit of 1000 bytes"),
    ("streamed attachment too large", lambda db: db.put(
        {"_id": "x", "_attachments": {"a": {"content_type": "image/jpeg", "follows": True}}},
        attachment_streams={"a": [b"x" * 600, b"x" * 401]}), TooLarge, "limit of 1000 bytes"),
    ("bad local rev", lambda db: db.put_local({"_id": "_local/cp", "_rev": "1-abc"}),
     BadRequest, "0-N"),
    ("stale local rev", lambda db: db.put_local({"_id": "_local/cp", "_rev": "0-9"}),
     Conflict, "conflict"),
    ("delete missing", lambda db: db.delete("nobody", R1), Conflict, "does not exist"),
    ("revs_diff bad rev", lambda db: db.revs_diff({"x": ["nope"]}), BadRequest, "Invalid rev"),
    ("purge bad rev", lambda db: db.purge({"existing": ["nope"]}), BadRequest, "Invalid rev"),
    ("bad since", lambda db: db.changes(since="yesterday"), BadRequest, "since"),
    ("bad selector", lambda db: db.find({"a": {"$where": "1"}}), BadRequest, "operator"),
    ("bad revs_limit", lambda db: db.set_revs_limit(-3), BadRequest, "revs_limit"),
    ("missing doc", lambda db: db.get("nobody"), NotFound, "missing"),
    ("deeply nested JSON", lambda db: db.put(b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
     BadRequest, "nested too deeply"),
    ("deeply nested body", lambda db: db.put({"_id": "x", "a": _deep(100_000)}), BadRequest,
     "not valid JSON"),
    ("deeply nested replica", lambda db: _raise(db.bulk_docs(
        [{"_id": "x", "_rev": R1, "a": _deep(100_000)}], new_edits=False)), BadRequest,
     "not valid JSON"),
    ("deeply nested local", lambda db: db.put_local({"_id": "_local/x", "a": _deep(100_000)}),
     BadRequest, "not valid JSON"),
]


def _deep(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def _raise(results: list[dict[str, Any]]) -> None:
    """Turn a bulk_docs error row back into its exception, to check kind and reason."""
    from sync.errors import ALL_ERRORS

    for row in results:
        if "error" in row:
            kind = next(e for e in ALL_ERRORS if e.error == row["error"])
            raise kind(row["reason"])


@pytest.mark.parametrize("case", BAD, ids=[case[0] for case in BAD])
def test_malformed_input_is_refused_and_changes_nothing(
    filled: Database, case: tuple[str, Callable[[Database], Any], type[DocumentError], str]
) -> None:
    _, action, kind, reason = case
    before_bytes, before = fingerprint(filled), content(filled)
    with pytest.raises(kind) as raised:
        action(filled)
    assert reason.lower() in raised.value.reason.lower()
    assert fingerprint(filled) == before_bytes
    assert content(filled) == before
