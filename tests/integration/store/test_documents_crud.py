"""put/post/get/delete and bulk_docs with new_edits=true, with CouchDB's answers."""

from __future__ import annotations

import pytest

from sync.errors import BadRequest, Conflict, FileExists, NotFound
from sync.store import Database, Store
from sync.store.schema import SCHEMA_VERSION


def test_put_then_get_returns_the_body_with_id_and_rev(db: Database) -> None:
    result = db.put(
        {"_id": "hồ-sơ-1", "tên": "Nguyễn Văn An", "tuổi": 81, "địa_chỉ": {"xã": "Tân Lập"}}
    )
    assert result["ok"] is True and result["id"] == "hồ-sơ-1"
    assert result["rev"].startswith("1-")
    doc = db.get("hồ-sơ-1")
    assert doc == {
        "_id": "hồ-sơ-1",
        "_rev": result["rev"],
        "tên": "Nguyễn Văn An",
        "tuổi": 81,
        "địa_chỉ": {"xã": "Tân Lập"},
    }


def test_an_update_needs_the_current_rev(db: Database) -> None:
    first = db.put({"_id": "a", "n": 1})
    second = db.put({"_id": "a", "_rev": first["rev"], "n": 2})
    assert second["rev"].startswith("2-")
    with pytest.raises(Conflict):
        db.put({"_id": "a", "_rev": first["rev"], "n": 3})
    with pytest.raises(Conflict):
        db.put({"_id": "a", "n": 3})
    with pytest.raises(Conflict):
        db.put({"_id": "new", "_rev": first["rev"]})
    assert db.get("a")["n"] == 2


def test_same_edit_gives_the_same_rev_in_two_databases(store: Store) -> None:
    one, two = store.create("one"), store.create("two")
    assert one.put({"_id": "x", "v": [1, 2]})["rev"] == two.put({"_id": "x", "v": [1, 2]})["rev"]


def test_get_old_revision_and_missing_ones(db: Database) -> None:
    first = db.put({"_id": "a", "n": 1})
    db.put({"_id": "a", "_rev": first["rev"], "n": 2})
    assert db.get("a", rev=first["rev"])["n"] == 1
    with pytest.raises(NotFound) as missing:
        db.get("nope")
    assert missing.value.reason == "missing"
    with pytest.raises(NotFound):
        db.get("a", rev="9-" + "0" * 32)


def test_delete_leaves_a_tombstone(db: Database) -> None:
    rev = db.put({"_id": "a", "n": 1})["rev"]
    gone = db.delete("a", rev)
    assert gone["rev"].startswith("2-")
    with pytest.raises(NotFound) as deleted:
        db.get("a")
    assert deleted.value.reason == "deleted"
    assert db.get("a", rev=gone["rev"]) == {"_id": "a", "_rev": gone["rev"], "_deleted": True}
    info = db.info()
    assert (info["doc_count"], info["doc_del_count"]) == (0, 1)
    # Re-creating a deleted document continues its history.
    again = db.put({"_id": "a", "n": 2})
    assert again["rev"].startswith("3-")


def test_post_generates_an_id(db: Database) -> None:
    result = db.post({"loại": "lịch hẹn"})
    assert len(result["id"]) == 32
    assert db.get(result["id"])["loại"] == "lịch hẹn"


def test_bulk_docs_answers_per_document(db: Database) -> None:
    rev = db.put({"_id": "old"})["rev"]
    answer = db.bulk_docs(
        [
            {"_id": "new1", "v": 1},
            {"_id": "old"},
            {"_id": "old", "_rev": rev, "v": 2},
            {"_id": "_bad"},
            "not an object",
        ]
    )
    assert answer[0]["ok"] and answer[0]["id"] == "new1"
    assert answer[1]["error"] == "conflict"
    assert answer[2]["ok"] and answer[2]["rev"].startswith("2-")
    assert answer[3]["error"] == "bad_request"
    assert answer[4]["error"] == "bad_request"
    assert db.info()["doc_count"] == 2


def test_bulk_docs_same_id_twice_conflicts_the_second(db: Database) -> None:
    answer = db.bulk_docs([{"_id": "d", "v": 1}, {"_id": "d", "v": 2}])
    assert answer[0]["ok"]
    assert answer[1]["error"] == "conflict"


def test_design_documents_are_allowed(db: Database) -> None:
    assert db.put({"_id": "_design/app", "views": {}})["ok"]


def test_all_docs_ranges_keys_and_docs(db: Database) -> None:
    for name in ["a", "b", "c", "d"]:
        db.put({"_id": name, "v": name})
    rev = db.get("c")["_rev"]
    db.delete("c", rev)
    result = db.all_docs()
    assert result["total_rows"] == 3
    assert [r["id"] for r in result["rows"]] == ["a", "b", "d"]
    assert [r["id"] for r in db.all_docs(startkey="b", endkey="d")["rows"]] == ["b", "d"]
    exclusive = db.all_docs(startkey="b", endkey="d", inclusive_end=False)
    assert [r["id"] for r in exclusive["rows"]] == ["b"]
    assert [r["id"] for r in db.all_docs(descending=True, limit=2)["rows"]] == ["d", "b"]
    assert [r["id"] for r in db.all_docs(skip=1, limit=1)["rows"]] == ["b"]
    keyed = db.all_docs(keys=["d", "zz", "c"], include_docs=True)["rows"]
    assert keyed[0]["doc"]["v"] == "d"
    assert keyed[1] == {"key": "zz", "error": "not_found"}
    assert keyed[2]["value"]["deleted"] is True and keyed[2]["doc"] is None


def test_store_create_open_delete(store: Store) -> None:
    store.create("commune-26734")
    with pytest.raises(FileExists):
        store.create("commune-26734")
    with pytest.raises(NotFound):
        store.open("absent")
    with pytest.raises(BadRequest):
        store.create("Bad Name")
    store.open("auto", create=True).close()
    assert store.names() == ["auto", "commune-26734"]
    store.delete("auto")
    assert store.names() == ["commune-26734"]


def test_raw_json_is_accepted_and_bad_json_refused(db: Database) -> None:
    assert db.put(b'{"_id": "j", "v": 1}')["ok"]
    with pytest.raises(BadRequest, match="invalid JSON"):
        db.put(b'{"_id": "j", ')


def test_reopening_changes_nothing_and_keeps_everything(store: Store) -> None:
    db = store.create("kept")
    rev = db.put({"_id": "a", "tên": "Đỗ Thị Hà"})["rev"]
    db.close()
    path = store.path_of("kept")
    before = path.read_bytes()
    again = store.open("kept")
    assert again.get("a")["_rev"] == rev
    assert again.info()["disk_format_version"] == SCHEMA_VERSION
    again.close()
    assert path.read_bytes() == before


def test_a_failed_create_leaves_no_file(store: Store) -> None:
    with pytest.raises(BadRequest, match="32 raw bytes"):
        store.create("locked", key=b"too short")
    assert not store.exists("locked")
    assert store.create("fresh").revs_limit == 1000
