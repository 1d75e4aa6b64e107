"""The changes feed: since, limit, style, include_docs, doc_ids, selector, last_seq."""

from __future__ import annotations

import pytest

from sync.errors import BadRequest
from sync.store import Database

H1, H2, HX = "a" * 32, "b" * 32, "f" * 32


def test_each_document_appears_once_at_its_latest_seq(db: Database) -> None:
    rev_a = db.put({"_id": "a"})["rev"]
    db.put({"_id": "b"})
    db.put({"_id": "a", "_rev": rev_a, "v": 2})
    feed = db.changes()
    assert [(r["seq"], r["id"]) for r in feed["results"]] == [(2, "b"), (3, "a")]
    assert feed["last_seq"] == 3
    assert [r["id"] for r in db.changes(since=2)["results"]] == ["a"]
    assert db.changes(since=3) == {"results": [], "last_seq": 3}


def test_limit_sets_last_seq_to_the_last_row(db: Database) -> None:
    db.bulk_docs([{"_id": f"d{i}"} for i in range(5)])
    page = db.changes(limit=2)
    assert [r["seq"] for r in page["results"]] == [1, 2]
    assert page["last_seq"] == 2
    rest = db.changes(since=page["last_seq"], limit=10)
    assert [r["seq"] for r in rest["results"]] == [3, 4, 5]


def test_style_all_docs_lists_every_leaf_and_deleted_flag(db: Database) -> None:
    db.bulk_docs(
        [
            {"_id": "c", "_rev": f"2-{H2}", "_revisions": {"start": 2, "ids": [H2, H1]}},
            {"_id": "c", "_rev": f"2-{HX}", "_revisions": {"start": 2, "ids": [HX, H1]}},
        ],
        new_edits=False,
    )
    row = db.changes(style="all_docs")["results"][0]
    assert row["changes"] == [{"rev": f"2-{HX}"}, {"rev": f"2-{H2}"}]
    assert db.changes()["results"][0]["changes"] == [{"rev": f"2-{HX}"}]
    rev = db.put({"_id": "gone"})["rev"]
    db.delete("gone", rev)
    last = db.changes()["results"][-1]
    assert last["id"] == "gone" and last["deleted"] is True


def test_include_docs_doc_ids_and_selector(db: Database) -> None:
    db.bulk_docs([{"_id": "x", "type": "visit"}, {"_id": "y", "type": "dossier"}])
    with_docs = db.changes(include_docs=True, conflicts=True)["results"]
    assert with_docs[0]["doc"]["type"] == "visit"
    only_y = db.changes(doc_ids=["y", "absent"])["results"]
    assert [r["id"] for r in only_y] == ["y"]
    chosen = db.changes(selector={"type": "dossier"}, include_docs=True)["results"]
    assert [r["id"] for r in chosen] == ["y"]


def test_bad_options_are_refused(db: Database) -> None:
    with pytest.raises(BadRequest):
        db.changes(since=-1)
    with pytest.raises(BadRequest):
        db.changes(style="everything")  # type: ignore[arg-type]
    with pytest.raises(BadRequest):
        db.changes(limit=-5)


def test_since_now_and_descending(db: Database) -> None:
    db.bulk_docs([{"_id": f"d{i}"} for i in range(3)])
    assert db.changes(since="now")["results"] == []
    assert [r["seq"] for r in db.changes(descending=True)["results"]] == [3, 2, 1]
