"""The multipart reader/writer: round trips at every chunking, CouchDB's open_revs shape."""

import base64
import json

import pytest

from sync.errors import PeerProtocolError
from sync.protocol.model import FetchError, Revision
from sync.protocol.multipart import MultipartReader, read_open_revs, read_parts, related_parts

DOC = {"_id": "d", "_rev": "2-ab", "_attachments": {
    "photo.jpg": {"content_type": "image/jpeg", "follows": True, "length": 5000},
    "note \"1\".txt": {"content_type": "text/plain", "follows": True, "length": 3},
    "old.txt": {"stub": True, "revpos": 1, "digest": "md5-x"}}}
BLOBS = {"photo.jpg": bytes(range(250)) * 20, "note \"1\".txt": b"\r\n-"}


@pytest.mark.parametrize("chunk", [1, 3, 64, 4096, 10**6])
def test_related_round_trip_at_any_chunking(chunk):
    body = b"".join(related_parts(DOC, BLOBS, "xyz"))
    reader = MultipartReader("xyz")
    for i in range(0, len(body), chunk):
        reader.feed(body[i:i + chunk])
    parts = reader.close()
    assert json.loads(parts[0].body) == DOC
    assert [p.body for p in parts[1:]] == [BLOBS["photo.jpg"], BLOBS["note \"1\".txt"]]
    assert 'filename="note \\"1\\".txt"' in parts[2].headers["content-disposition"]


def test_truncated_body_is_an_error():
    body = b"".join(related_parts(DOC, BLOBS, "xyz"))
    reader = MultipartReader("xyz")
    reader.feed(body[:-10])
    with pytest.raises(PeerProtocolError, match="closing boundary"):
        reader.close()


def test_open_revs_mixed_answer():
    inner = b"".join(related_parts(DOC, BLOBS, "inner"))
    plain = {"_id": "d", "_rev": "2-cd", "_revisions": {"start": 2, "ids": ["cd", "ab"]}}
    body = (b"--outer\r\nContent-Type: application/json\r\n\r\n" + json.dumps(plain).encode()
            + b"\r\n--outer\r\nContent-Type: multipart/related; boundary=\"inner\"\r\n\r\n"
            + inner + b"\r\n--outer\r\nContent-Type: application/json; error=\"true\"\r\n\r\n"
            + b'{"missing":"3-ef"}\r\n--outer--')
    parts = read_parts([body], 'multipart/mixed; boundary="outer"')
    results = read_open_revs("d", parts)
    assert isinstance(results[0], Revision) and results[0].doc == plain
    assert isinstance(results[1], Revision) and results[1].blobs == BLOBS
    assert results[2] == FetchError("d", "3-ef", "not_found", "missing")


def test_revision_inline_and_follows_are_inverse():
    rev = Revision({"_id": "d", "_rev": "1-a", "_attachments": {
        "a": {"content_type": "text/plain", "data": base64.b64encode(b"abc").decode()},
        "s": {"stub": True, "revpos": 1}}})
    split = rev.with_follows()
    assert split.blobs == {"a": b"abc"} and split.doc["_attachments"]["a"]["follows"] is True
    assert split.doc["_attachments"]["s"] == {"stub": True, "revpos": 1}
    assert split.inline()["_attachments"]["a"]["data"] == base64.b64encode(b"abc").decode()
    assert rev.carries_data() and not Revision({"_id": "x", "_rev": "1-a"}).carries_data()
