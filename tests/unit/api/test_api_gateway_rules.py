"""The gateway's pure parts: write rules, the access index, seq tokens, multipart parsing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import pytest

from api.gateway.access_index import AccessIndex
from api.gateway.multipart import mixed_body, parse_related
from api.gateway.service import SeqTokens
from api.gateway.validation import WriteLimits, check_write
from dossiers.models import Event
from sync.errors import BadRequest

LIMITS = WriteLimits(max_document_bytes=10_000, max_attachment_bytes=100)


def _event(actor: str = "o1", **changes: Any) -> dict[str, Any]:
    event = Event(access=(f"officer:{actor}",), id="e1", dossier="TT-X-000001",
                  kind="received", at=dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC), actor=actor,
                  role="officer")
    doc: dict[str, Any] = msgspec.to_builtins(event)
    doc.update(_id="event:e1", **changes)
    return doc


def test_own_event_passes_and_foreign_or_changed_ones_do_not() -> None:
    assert check_write("o1", _event(), None, LIMITS) is None
    assert check_write("o2", _event(), None, LIMITS).error == "forbidden"  # type: ignore[union-attr]
    stored = dict(_event(), _rev="1-a")
    assert check_write("o1", dict(_event(), _rev="1-a"), stored, LIMITS) is None
    changed = check_write("o1", _event(kind="returned"), stored, LIMITS)
    assert changed is not None and "signed" in changed.reason
    theirs = dict(_event("o2"), _rev="1-a")
    assert check_write("o1", _event(), theirs, LIMITS).reason.startswith("the document exists")  # type: ignore[union-attr]


@pytest.mark.parametrize(("doc", "error"), [
    ({"_id": "_design/x"}, "forbidden"),
    ({"_id": 5}, "bad_request"),
    ([], "bad_request"),
    (dict(_event(), _deleted=True), "forbidden"),
    (dict(_event(), type="visit"), "forbidden"),
    (dict(_event(), extra=1), "forbidden"),
    (dict(_event(), _attachments={"a": {"data": "QUFB" * 50}}), "too_large"),
    (dict(_event(), note="x" * 20_000), "too_large"),
    (dict(_event(), note="x"), "forbidden"),
])
def test_refusals(doc: Any, error: str) -> None:
    refusal = check_write("o1", doc, None, LIMITS)
    assert refusal is not None and refusal.error == error and refusal.reason


def test_index_moves_a_document_between_principals() -> None:
    index = AccessIndex()
    index.apply([{"id": "v1", "seq": 1, "changes": [{"rev": "1-a"}],
                  "doc": {"access": ["officer:a"]}},
                 {"id": "r", "seq": 2, "changes": [{"rev": "1-b"}],
                  "doc": {"type": "reference"}}], 2)
    assert index.feed(["officer:a", "reference"], 0) == [(1, "v1"), (2, "r")]
    assert index.feed(["officer:b"], 0) == []
    index.apply([{"id": "v1", "seq": 3, "changes": [{"rev": "2-c"}],
                  "doc": {"access": ["officer:b"]}}], 3)
    assert index.feed(["officer:a"], 0) == []
    assert index.purged(["officer:a"]) == ["v1"]
    assert index.feed(["officer:b"], 2) == [(3, "v1")]
    index.apply([{"id": "v1", "seq": 4, "deleted": True, "changes": [{"rev": "3-d"}],
                  "doc": {"_deleted": True}}], 4)
    assert index.feed(["officer:b"], 3) == [(4, "v1")]  # the tombstone reaches its reader


def test_seq_tokens_are_bound_to_their_officer() -> None:
    tokens = SeqTokens(b"k" * 32)
    token = tokens.encode("a", 42)
    assert tokens.decode("a", token, 99) == 42
    assert tokens.decode("a", 0, 99) == 0 and tokens.decode("a", "now", 99) == 99
    for bad in (token.replace("42", "43"), "42", "x-y"):
        with pytest.raises(BadRequest):
            tokens.decode("a", bad, 99)
    with pytest.raises(BadRequest):
        tokens.decode("b", token, 99)


def test_multipart_related_round_trip_and_broken_bodies() -> None:
    body = (b'--b\r\nContent-Type: application/json\r\n\r\n'
            b'{"_id": "d", "_attachments": {"a.jpg": {"follows": true}}}\r\n'
            b"--b\r\n\r\nJPEGDATA\r\n--b--")
    doc, streams = parse_related(body, 'multipart/related; boundary="b"')
    assert doc["_id"] == "d" and streams == {"a.jpg": b"JPEGDATA"}
    for broken in (b"--b\r\nno separator", body.replace(b"--b--", b""),
                   body.replace(b'{"follows": true}', b'{"stub": true}')):
        with pytest.raises(BadRequest):
            parse_related(broken, "multipart/related; boundary=b")
    with pytest.raises(BadRequest):
        parse_related(body, "multipart/related")
    out, content_type = mixed_body([{"ok": {"_id": "d"}}, {"missing": "1-x"}])
    assert content_type.startswith("multipart/mixed") and out.count(b"application/json") == 2


def test_attachments_of_a_stored_document_cannot_change() -> None:
    stored = dict(_event(), _rev="1-a", _attachments={"a.jpg": {
        "digest": "md5-XrY7u+Ae7tCTyyK7j1rNww==", "length": 11, "stub": True}})  # "hello world"
    same = dict(_event(), _attachments={"a.jpg": {"data": "aGVsbG8gd29ybGQ="}})
    assert check_write("o1", same, stored, LIMITS) is None
    other = dict(_event(), _attachments={"a.jpg": {"data": "aGVsbG8gd29ybGQh"}})
    refusal = check_write("o1", other, stored, LIMITS)
    assert refusal is not None and "cannot change" in refusal.reason
    dropped = dict(_event(), _attachments={})
    assert "removed" in check_write("o1", dropped, stored, LIMITS).reason  # type: ignore[union-attr]
