"""Mango-style find over declared index fields, through SQLite indexes."""

from __future__ import annotations

import sqlite3

import pytest

from sync.errors import BadRequest
from sync.store import Database, Store


@pytest.fixture
def visits(db: Database) -> Database:
    db.create_index(["type", "officer", "due"])
    db.create_index(["citizen.age"])
    db.bulk_docs([
        {"_id": "v1", "type": "visit", "officer": "o1", "due": "2026-12-01",
         "citizen": {"age": 81}},
        {"_id": "v2", "type": "visit", "officer": "o2", "due": "2026-11-30",
         "citizen": {"age": 67}},
        {"_id": "v3", "type": "visit", "officer": "o1", "due": "2026-12-05",
         "citizen": {"age": 90}},
        {"_id": "d1", "type": "dossier", "officer": "o1", "citizen": {"age": None}},
        {"_id": "x1", "type": "visit", "officer": "o3", "due": True},
    ])
    return db


def ids(result: dict) -> list[str]:
    return [doc["_id"] for doc in result["docs"]]


def test_equality_and_implicit_and(visits: Database) -> None:
    assert ids(visits.find({"type": "visit", "officer": "o1"})) == ["v1", "v3"]


def test_ranges_sort_and_limit(visits: Database) -> None:
    found = visits.find({"type": "visit", "due": {"$gte": "2026-12-01"}}, sort=[{"due": "desc"}])
    assert ids(found) == ["v3", "v1"]
    assert ids(visits.find({"type": "visit"}, sort=["due"], limit=2)) == ["x1", "v2"]
    assert ids(visits.find({"type": "visit"}, sort=["due"], skip=3)) == ["v3"]


def test_nested_fields_in_or_ne_exists(visits: Database) -> None:
    assert ids(visits.find({"citizen": {"age": {"$gt": 80}}})) == ["v1", "v3"]
    assert ids(visits.find({"citizen.age": {"$lt": 70}})) == ["d1", "v2"]  # null < numbers
    assert ids(visits.find({"officer": {"$in": ["o2", "o3"]}})) == ["v2", "x1"]
    assert ids(visits.find({"$or": [{"officer": "o2"}, {"citizen.age": 90}]})) == ["v2", "v3"]
    assert ids(visits.find({"type": "visit", "officer": {"$ne": "o1"}})) == ["v2", "x1"]
    assert ids(visits.find({"due": {"$exists": False}})) == ["d1"]
    assert ids(visits.find({"due": {"$exists": True}, "officer": "o3"})) == ["x1"]
    assert ids(visits.find({"due": {"$lte": True}})) == ["x1"]


def test_fields_projection(visits: Database) -> None:
    docs = visits.find({"officer": "o2"}, fields=["_id", "citizen.age"])
    assert docs["docs"] == [{"_id": "v2", "citizen": {"age": 67}}]


def test_updates_and_deletes_keep_the_index_current(visits: Database) -> None:
    doc = visits.get("v2")
    doc["officer"] = "o1"
    visits.put(doc)
    assert ids(visits.find({"officer": "o1"})) == ["d1", "v1", "v2", "v3"]
    visits.delete("v1", visits.get("v1")["_rev"])
    assert ids(visits.find({"officer": "o1"})) == ["d1", "v2", "v3"]


def test_unindexed_fields_and_bad_selectors_are_refused(visits: Database) -> None:
    with pytest.raises(BadRequest, match="no index on status"):
        visits.find({"status": 3})
    with pytest.raises(BadRequest, match="unsupported operator"):
        visits.find({"type": {"$regex": "v.*"}})
    with pytest.raises(BadRequest, match="not an indexed field"):
        visits.find({"type": "visit"}, sort=["status"])
    with pytest.raises(BadRequest):
        visits.find("type=visit")  # type: ignore[arg-type]


def test_the_query_plan_uses_the_index(visits: Database) -> None:
    from sync.store import query

    sql, params = query.to_sql(query.parse({"officer": "o1", "due": {"$gt": "2026"}}),
                               ["officer", "due"])
    conn = sqlite3.connect(visits.path)
    try:
        plan = " ".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    finally:
        conn.close()
    assert "fields_by_value" in plan
    assert "SCAN fields" not in plan


def test_an_index_declared_by_another_handle_is_maintained(store: Store) -> None:
    first = store.create("two-handles")
    second = store.open("two-handles")
    second.create_index(["kind"])
    first.put({"_id": "a", "kind": "visit"})
    assert [d["_id"] for d in second.find({"kind": "visit"})["docs"]] == ["a"]
    first.close()
    second.close()
