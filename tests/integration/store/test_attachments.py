"""Attachments: inline base64, stubs, revpos, atts_since, dedup, streaming, missing stubs."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.errors import BadRequest, MissingStub, NotFound
from sync.store import Database


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def md5_digest(data: bytes) -> str:
    return "md5-" + b64(hashlib.md5(data).digest())


def inline(data: bytes, content_type: str = "image/jpeg") -> dict:
    return {"content_type": content_type, "data": b64(data)}


def test_inline_attachment_is_stored_with_digest_length_and_revpos(db: Database) -> None:
    photo = b"\xff\xd8 giay to tuy than" * 100
    rev = db.put({"_id": "d", "_attachments": {"cccd.jpg": inline(photo)}})["rev"]
    stub = db.get("d")["_attachments"]["cccd.jpg"]
    assert stub == {
        "content_type": "image/jpeg",
        "digest": md5_digest(photo),
        "length": len(photo),
        "revpos": 1,
        "stub": True,
    }
    full = db.get("d", attachments=True)["_attachments"]["cccd.jpg"]
    assert base64.b64decode(full["data"]) == photo
    reader = db.attachment("d", "cccd.jpg", rev=rev)
    assert (reader.length, reader.digest, reader.revpos) == (len(photo), md5_digest(photo), 1)
    assert reader.read() == photo


def test_stubs_keep_the_attachment_across_edits_and_atts_since(db: Database) -> None:
    one = db.put({"_id": "d", "_attachments": {"a.txt": inline(b"first", "text/plain")}})["rev"]
    doc = db.get("d")
    doc["_attachments"]["b.txt"] = inline(b"second", "text/plain")
    two = db.put(doc)["rev"]
    atts = db.get("d")["_attachments"]
    assert atts["a.txt"]["revpos"] == 1 and atts["b.txt"]["revpos"] == 2
    since = db.get("d", atts_since=[one])["_attachments"]
    assert since["a.txt"].get("stub") is True and "data" not in since["a.txt"]
    assert base64.b64decode(since["b.txt"]["data"]) == b"second"
    assert two.startswith("2-")


def test_a_stub_the_parent_lacks_is_a_missing_stub(db: Database) -> None:
    rev = db.put({"_id": "d"})["rev"]
    with pytest.raises(MissingStub):
        db.put({"_id": "d", "_rev": rev, "_attachments": {"x": {"stub": True}}})
    errors = db.bulk_docs(
        [{"_id": "e", "_rev": "1-" + "a" * 32,
          "_attachments": {"x": {"stub": True, "digest": md5_digest(b"never stored")}}}],
        new_edits=False,
    )
    assert errors[0]["error"] == "missing_stub"


def test_replicated_stub_with_known_digest_is_accepted(db: Database) -> None:
    data = b"shared photo"
    db.put({"_id": "src", "_attachments": {"p": inline(data)}})
    errors = db.bulk_docs(
        [{"_id": "copy", "_rev": "2-" + "b" * 32,
          "_revisions": {"start": 2, "ids": ["b" * 32, "a" * 32]},
          "_attachments": {"p": {"stub": True, "digest": md5_digest(data), "length": len(data),
                                 "revpos": 1, "content_type": "image/jpeg"}}}],
        new_edits=False,
    )
    assert errors == []
    assert db.attachment("copy", "p").read() == data


def test_same_data_is_stored_once(db: Database) -> None:
    data = b"x" * 200_000
    db.put({"_id": "a", "_attachments": {"p": inline(data)}})
    db.put({"_id": "b", "_attachments": {"q": inline(data)}})
    conn = sqlite3.connect(db.path)
    try:
        assert conn.execute("SELECT COUNT(*) FROM blobs").fetchone()[0] == 1
    finally:
        conn.close()


def test_bad_attachment_input_is_refused(db: Database) -> None:
    with pytest.raises(BadRequest, match="base64"):
        db.put({"_id": "d", "_attachments": {"p": {"data": "!!!not base64"}}})
    with pytest.raises(BadRequest, match="digest"):
        db.put({"_id": "d", "_attachments": {"p": {**inline(b"abc"), "digest": "md5-AAAA"}}})
    with pytest.raises(BadRequest):
        db.put({"_id": "d", "_attachments": {"_p": inline(b"abc")}})
    with pytest.raises(BadRequest, match="follows"):
        db.put({"_id": "d", "_attachments": {"p": {"follows": True}}})
    with pytest.raises(NotFound):
        db.get("d")


def test_put_and_delete_attachment(db: Database) -> None:
    rev = db.put({"_id": "d", "v": 1})["rev"]
    rev = db.put_attachment("d", "note.txt", rev, "text/plain", b"ghi chu")["rev"]
    assert db.attachment("d", "note.txt").read() == b"ghi chu"
    assert db.get("d")["v"] == 1
    rev = db.delete_attachment("d", "note.txt", rev)["rev"]
    assert "_attachments" not in db.get("d") or not db.get("d")["_attachments"]
    with pytest.raises(NotFound):
        db.attachment("d", "note.txt")
    assert rev.startswith("3-")


MB = 1024 * 1024


def _fifty_megabytes() -> Iterator[bytes]:
    block = bytes(range(256)) * 4096  # 1 MiB
    for _ in range(50):
        yield block


def test_a_50_mb_attachment_streams_in_and_out_without_being_held(db: Database) -> None:
    expected = hashlib.md5()
    for block in _fifty_megabytes():
        expected.update(block)
    tracemalloc.start()
    try:
        result = db.put(
            {"_id": "big", "_attachments": {"scan.pdf": {"follows": True,
                                                          "content_type": "application/pdf",
                                                          "length": 50 * MB}}},
            attachment_streams={"scan.pdf": _fifty_megabytes()},
        )
        reader = db.attachment("big", "scan.pdf")
        seen, md5 = 0, hashlib.md5()
        for piece in reader:
            seen += len(piece)
            md5.update(piece)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result["ok"]
    assert seen == 50 * MB
    assert reader.digest == "md5-" + b64(expected.digest()) == "md5-" + b64(md5.digest())
    assert peak < 8 * MB, f"peak Python allocation {peak / MB:.1f} MB while streaming 50 MB"


def test_stream_from_a_file_object(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "photo.bin"
    path.write_bytes(b"\x01\x02" * 100_000)
    rev = db.put({"_id": "d"})["rev"]
    with path.open("rb") as handle:
        db.put_attachment("d", "photo.bin", rev, "application/octet-stream", handle)
    assert db.attachment("d", "photo.bin").read() == path.read_bytes()


def test_bulk_docs_takes_each_documents_bodies_as_streams(db: Database) -> None:
    # How the replicator writes a group of revisions with photos: one body per document
    # under the same name, a wrong digest and a missing stub refused each for its own.
    bodies = [bytes([n]) * 70_000 for n in range(4)]
    docs = [
        {"_id": f"p{n}", "_rev": f"1-{n}a", "_revisions": {"start": 1, "ids": [f"{n}a"]},
         "_attachments": {"photo.jpg": {"follows": True, "content_type": "image/jpeg",
                                        "length": len(bodies[n]),
                                        "digest": md5_digest(bodies[n])}}}
        for n in range(4)
    ]
    docs[1]["_attachments"]["photo.jpg"]["digest"] = md5_digest(b"something else")
    docs[2]["_attachments"]["photo.jpg"] = {"stub": True, "digest": md5_digest(b"never held")}
    seq_before = db.info()["update_seq"]
    errors = db.bulk_docs(docs, new_edits=False,
                          attachment_streams=[{"photo.jpg": [b]} for b in bodies])
    assert [(e["id"], e["error"]) for e in errors] == [("p1", "bad_request"),
                                                       ("p2", "missing_stub")]
    assert db.attachment("p0", "photo.jpg").read() == bodies[0]
    assert db.attachment("p3", "photo.jpg").read() == bodies[3]
    assert db.info()["update_seq"] == seq_before + 2  # p0 and p3 only
    conn = sqlite3.connect(db.path)
    try:
        assert conn.execute("SELECT COUNT(*) FROM blobs").fetchone()[0] == 2
    finally:
        conn.close()
    with pytest.raises(BadRequest, match="one attachment_streams entry per document"):
        db.bulk_docs(docs, new_edits=False, attachment_streams=[None])


def test_a_failed_document_leaves_none_of_its_attachment_data(db: Database) -> None:
    answer = db.bulk_docs([
        {"_id": "ok", "v": 1},
        {"_id": "bad", "_attachments": {"good.jpg": inline(b"stored first" * 1000),
                                        "broken.jpg": {"data": "%%% not base64"}}},
    ])
    assert answer[0]["ok"] and answer[1]["error"] == "bad_request"
    conn = sqlite3.connect(db.path)
    try:
        assert conn.execute("SELECT COUNT(*) FROM blobs").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0] == 0
    finally:
        conn.close()
