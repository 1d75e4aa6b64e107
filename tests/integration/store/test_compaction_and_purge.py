"""Compaction drops old bodies and unreferenced attachment data; purge removes revisions."""

from __future__ import annotations

import base64
import sqlite3

import pytest

from sync.errors import NotFound
from sync.store import Database


def count(db: Database, sql: str) -> int:
    conn = sqlite3.connect(db.path)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def test_compaction_keeps_leaves_and_drops_the_rest(db: Database) -> None:
    old_photo = base64.b64encode(b"old photo" * 1000).decode()
    first = db.put({"_id": "d", "v": 1, "_attachments": {"p": {"data": old_photo}}})["rev"]
    second = db.put({"_id": "d", "_rev": first, "v": 2, "_attachments": {}})["rev"]
    third = db.put({"_id": "d", "_rev": second, "v": 3})["rev"]
    assert count(db, "SELECT COUNT(*) FROM revs") == 3
    assert count(db, "SELECT COUNT(*) FROM blobs") == 1
    db.compact()
    assert count(db, "SELECT COUNT(*) FROM revs") == 1
    assert count(db, "SELECT COUNT(*) FROM blobs") == 0
    assert count(db, "SELECT COUNT(*) FROM chunks") == 0
    assert db.get("d")["v"] == 3
    history = [r.split("-")[1] for r in (third, second, first)]
    assert db.get("d", revs=True)["_revisions"]["ids"] == history
    with pytest.raises(NotFound):
        db.get("d", rev=first)
    assert db.open_revs("d", [first]) == [{"missing": first}]


def test_compaction_keeps_attachments_a_leaf_still_uses(db: Database) -> None:
    photo = base64.b64encode(b"kept photo").decode()
    rev = db.put({"_id": "d", "_attachments": {"p": {"data": photo}}})["rev"]
    doc = db.get("d")
    doc["v"] = 2
    db.put(doc)
    db.compact()
    assert db.attachment("d", "p").read() == b"kept photo"
    assert rev.startswith("1-")


def test_purge_removes_a_document_entirely(db: Database) -> None:
    rev = db.put({"_id": "gone", "v": 1})["rev"]
    db.put({"_id": "stays"})
    answer = db.purge({"gone": [rev], "unknown": ["1-" + "a" * 32]})
    assert answer["purged"] == {"gone": [rev], "unknown": []}
    assert answer["purge_seq"] == 1
    with pytest.raises(NotFound):
        db.get("gone")
    assert [r["id"] for r in db.changes()["results"]] == ["stays"]
    assert db.revs_diff({"gone": [rev]}) == {"gone": {"missing": [rev]}}
    assert count(db, "SELECT COUNT(*) FROM revs WHERE doc_id = 'gone'") == 0


def test_purging_one_conflict_branch_changes_the_winner(db: Database) -> None:
    a, b, root = "a" * 32, "f" * 32, "1" * 32
    db.bulk_docs(
        [
            {"_id": "d", "_rev": f"2-{a}", "_revisions": {"start": 2, "ids": [a, root]}, "v": "a"},
            {"_id": "d", "_rev": f"2-{b}", "_revisions": {"start": 2, "ids": [b, root]}, "v": "b"},
        ],
        new_edits=False,
    )
    assert db.get("d")["v"] == "b"
    seq_before = db.info()["update_seq"]
    db.purge({"d": [f"2-{b}"]})
    assert db.get("d", conflicts=True) == {"_id": "d", "_rev": f"2-{a}", "v": "a"}
    feed = db.changes(since=seq_before)["results"]
    assert [(r["id"], r["changes"]) for r in feed] == [("d", [{"rev": f"2-{a}"}])]
