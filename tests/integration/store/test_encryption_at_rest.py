"""Encryption at rest: sealed bodies, attachments and _local docs; wrong keys fail cleanly."""

from __future__ import annotations

import base64
import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

from sync.errors import BadRequest, Unauthorized
from sync.store import Store

SECRET_NAME = "Nguyễn Thị Bí Mật"
SECRET_PHOTO = b"CCCD-PHOTO-BYTES-" * 50


def file_bytes(path: Path) -> bytes:
    return b"".join(
        Path(f"{path}{suffix}").read_bytes()
        for suffix in ("", "-wal")
        if Path(f"{path}{suffix}").exists()
    )


def fill(store: Store, key: bytes) -> None:
    db = store.create("device", key=key)
    db.create_index(["type", "ward"])
    db.put({
        "_id": "dossier-1", "type": "dossier", "ward": "26734",
        "citizen": {"name": SECRET_NAME, "id_number": "079123456789"},
        "_attachments": {"cccd.jpg": {"content_type": "image/jpeg",
                                      "data": base64.b64encode(SECRET_PHOTO).decode()}},
    })
    db.put_local({"_id": "_local/checkpoint", "note": "LOCAL-SECRET"})
    db.close()


def test_only_declared_index_fields_are_plaintext(store: Store) -> None:
    key = os.urandom(32)
    fill(store, key)
    raw = file_bytes(store.path_of("device"))
    assert SECRET_NAME.encode() not in raw
    assert b"079123456789" not in raw
    assert b"CCCD-PHOTO-BYTES" not in raw
    assert b"LOCAL-SECRET" not in raw
    # the md5 of the photo is not there either (blobs are keyed by an HMAC of it)
    digest = base64.b64encode(hashlib.md5(SECRET_PHOTO).digest())
    assert digest not in raw
    assert b"26734" in raw  # a declared index field, plaintext on purpose
    db = store.open("device", key=key)
    try:
        assert db.get("dossier-1")["citizen"]["name"] == SECRET_NAME
        assert db.attachment("dossier-1", "cccd.jpg").read() == SECRET_PHOTO
        assert db.get_local("_local/checkpoint")["note"] == "LOCAL-SECRET"
        assert [d["_id"] for d in db.find({"ward": "26734"})["docs"]] == ["dossier-1"]
    finally:
        db.close()


def test_wrong_or_missing_key_fails_and_changes_nothing(store: Store) -> None:
    key = os.urandom(32)
    fill(store, key)
    path = store.path_of("device")
    before = path.read_bytes()
    with pytest.raises(Unauthorized, match="wrong key"):
        store.open("device", key=os.urandom(32))
    with pytest.raises(Unauthorized, match="key is needed"):
        store.open("device")
    with pytest.raises(BadRequest, match="32 raw bytes"):
        store.open("device", key=b"short")
    assert path.read_bytes() == before
    store.create("plain").close()
    with pytest.raises(BadRequest, match="not encrypted"):
        store.open("plain", key=key)


def test_a_ciphertext_moved_to_another_document_does_not_open(store: Store) -> None:
    key = os.urandom(32)
    db = store.create("device", key=key)
    one = db.put({"_id": "one", "secret": 1})["rev"]
    two = db.put({"_id": "two", "secret": 2})["rev"]
    db.close()
    conn = sqlite3.connect(store.path_of("device"))
    stolen = conn.execute(
        "SELECT data FROM revs WHERE doc_id = 'one' AND rev = ?", (one,)
    ).fetchone()[0]
    conn.execute("UPDATE revs SET data = ? WHERE doc_id = 'two' AND rev = ?", (stolen, two))
    conn.commit()
    conn.close()
    db = store.open("device", key=key)
    try:
        assert db.get("one")["secret"] == 1
        with pytest.raises(Unauthorized, match="tampered"):
            db.get("two")
    finally:
        db.close()
