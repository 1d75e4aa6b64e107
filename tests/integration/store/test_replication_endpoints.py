"""What a replicator uses: new_edits=false grafts, revs_diff, bulk_get, open_revs, _local."""

from __future__ import annotations

import pytest

from sync.errors import BadRequest, Conflict, NotFound
from sync.store import Database

H1, H2, H3, HX = "a" * 32, "b" * 32, "c" * 32, "f" * 32


def graft(db: Database, doc_id: str, start: int, ids: list[str], **body: object) -> list:
    doc = {"_id": doc_id, "_rev": f"{start}-{ids[0]}", "_revisions": {"start": start, "ids": ids}}
    doc.update(body)
    return db.bulk_docs([doc], new_edits=False)


def test_new_edits_false_grafts_history_and_answers_errors_only(db: Database) -> None:
    assert graft(db, "d", 3, [H3, H2, H1], v=3) == []
    doc = db.get("d", revs=True)
    assert doc["_rev"] == f"3-{H3}"
    assert doc["_revisions"] == {"start": 3, "ids": [H3, H2, H1]}
    # the ancestors are known by id only
    with pytest.raises(NotFound):
        db.get("d", rev=f"2-{H2}")
    # replaying the same revision is a no-op, not a conflict
    assert graft(db, "d", 3, [H3, H2, H1], v=3) == []
    assert db.info()["update_seq"] == 1


def test_grafting_a_sibling_makes_a_conflict_with_a_deterministic_winner(db: Database) -> None:
    graft(db, "d", 2, [H2, H1], v="b")
    graft(db, "d", 2, [HX, H1], v="f")
    doc = db.get("d", conflicts=True)
    assert doc["_rev"] == f"2-{HX}"  # greater hash wins at equal generation
    assert doc["_conflicts"] == [f"2-{H2}"]
    leaves = {r["ok"]["_rev"] for r in db.open_revs("d", "all")}
    assert leaves == {f"2-{H2}", f"2-{HX}"}


def test_deleted_leaf_loses_to_a_live_one(db: Database) -> None:
    graft(db, "d", 2, [H2, H1], v=1)
    db.bulk_docs(
        [{"_id": "d", "_rev": f"3-{H3}", "_deleted": True,
          "_revisions": {"start": 3, "ids": [H3, HX, H1]}}],
        new_edits=False,
    )
    doc = db.get("d", deleted_conflicts=True)
    assert doc["_rev"] == f"2-{H2}"
    assert doc["_deleted_conflicts"] == [f"3-{H3}"]


def test_editing_a_losing_leaf_is_allowed(db: Database) -> None:
    graft(db, "d", 2, [H2, H1], v="b")
    graft(db, "d", 2, [HX, H1], v="f")
    result = db.put({"_id": "d", "_rev": f"2-{H2}", "v": "merged"})
    assert result["rev"].startswith("3-")
    with pytest.raises(Conflict):
        db.put({"_id": "d", "_rev": f"1-{H1}", "v": "stale"})


def test_new_edits_false_refuses_bad_revisions(db: Database) -> None:
    errors = db.bulk_docs(
        [
            {"_id": "a", "v": 1},
            {"_id": "b", "_rev": "not-a-rev"},
            {"_id": "c", "_rev": f"2-{H2}", "_revisions": {"start": 1, "ids": [H2, H1]}},
            {"_id": "d", "_rev": f"2-{H2}", "_revisions": {"start": 2, "ids": [H3, H1]}},
            {"_id": "e", "_rev": f"2-{H2}", "_revisions": {"start": 2, "ids": "nope"}},
        ],
        new_edits=False,
    )
    assert [e["id"] for e in errors] == ["a", "b", "c", "d", "e"]
    assert {e["error"] for e in errors} == {"bad_request"}
    assert db.info()["update_seq"] == 0


def test_revs_diff(db: Database) -> None:
    graft(db, "d", 2, [H2, H1])
    answer = db.revs_diff({"d": [f"2-{H2}", f"3-{H3}", f"1-{H1}"], "new": [f"1-{H1}"]})
    assert answer == {
        "d": {"missing": [f"3-{H3}"], "possible_ancestors": [f"2-{H2}"]},
        "new": {"missing": [f"1-{H1}"]},
    }
    assert db.revs_diff({"d": [f"2-{H2}"]}) == {}
    with pytest.raises(BadRequest):
        db.revs_diff({"d": ["garbage"]})


def test_open_revs_with_latest_and_missing(db: Database) -> None:
    graft(db, "d", 3, [H3, H2, H1], v=3)
    found = db.open_revs("d", [f"3-{H3}", f"9-{HX}"], revs_history=True)
    assert found[0]["ok"]["_revisions"]["ids"] == [H3, H2, H1]
    assert found[1] == {"missing": f"9-{HX}"}
    latest = db.open_revs("d", [f"1-{H1}"], latest=True)
    assert latest == [{"ok": {"_id": "d", "_rev": f"3-{H3}", "v": 3}}]
    assert db.open_revs("nobody", "all") == []


def test_bulk_get(db: Database) -> None:
    graft(db, "d", 2, [H2, H1], v=2)
    answer = db.bulk_get(
        [{"id": "d", "rev": f"2-{H2}"}, {"id": "d", "rev": f"5-{HX}"}, {"id": "zz"}],
        revs=True,
    )["results"]
    assert answer[0]["docs"][0]["ok"]["_revisions"] == {"start": 2, "ids": [H2, H1]}
    assert answer[1]["docs"][0]["error"] == {
        "id": "d", "rev": f"5-{HX}", "error": "not_found", "reason": "missing"
    }
    assert answer[2]["docs"][0]["error"]["error"] == "not_found"


def test_local_documents_have_0_n_revs_and_stay_out_of_the_feed(db: Database) -> None:
    first = db.put_local({"_id": "_local/repl", "last_seq": 1})
    assert first["rev"] == "0-1"
    second = db.put_local({"_id": "_local/repl", "_rev": "0-1", "last_seq": 7})
    assert second["rev"] == "0-2"
    with pytest.raises(Conflict):
        db.put_local({"_id": "_local/repl", "_rev": "0-1", "last_seq": 9})
    assert db.get("_local/repl") == {"_id": "_local/repl", "_rev": "0-2", "last_seq": 7}
    assert db.changes()["results"] == []
    assert db.all_docs()["rows"] == []
    assert db.bulk_docs([{"_id": "_local/other", "x": 1}])[0]["ok"]
    db.delete_local("_local/repl", "0-2")
    with pytest.raises(NotFound):
        db.get_local("_local/repl")
    with pytest.raises(BadRequest):
        db.put_local({"_id": "not-local"})


def test_revs_limit_stems_old_history(db: Database) -> None:
    db.set_revs_limit(3)
    assert db.revs_limit == 3
    rev = db.put({"_id": "d", "n": 0})["rev"]
    for n in range(1, 6):
        rev = db.put({"_id": "d", "_rev": rev, "n": n})["rev"]
    doc = db.get("d", revs=True)
    assert doc["_revisions"]["start"] == 6
    assert len(doc["_revisions"]["ids"]) == 3
    with pytest.raises(BadRequest):
        db.set_revs_limit(0)
