"""Selector parsing, SQL translation and in-memory matching (pure, no database)."""

from __future__ import annotations

import pytest

from sync.errors import BadRequest
from sync.store import query
from sync.store.query import Combine, Cond


def test_parse_nested_fields_dotted_names_and_implicit_and() -> None:
    node = query.parse({"citizen": {"address": {"ward": "26734"}}, "age": {"$gt": 80, "$lt": 90}})
    assert node == Combine("$and", (
        Cond("citizen.address.ward", "$eq", "26734"),
        Combine("$and", (Cond("age", "$gt", 80), Cond("age", "$lt", 90))),
    ))
    assert query.parse({"a.b": 1}) == Cond("a.b", "$eq", 1)
    assert query.fields_of(node) == {"citizen.address.ward", "age"}


@pytest.mark.parametrize(
    "selector, message",
    [
        ({"a": {"$regex": "x"}}, "unsupported operator"),
        ({"$gt": 1}, "needs a field"),
        ({"a": {"$in": 3}}, r"\$in takes a list"),
        ({"a": {"$exists": "yes"}}, "true or false"),
        ({"$or": []}, "non-empty list"),
        ({"a": {"$gt": [1]}}, "scalar"),
        ({"a": {"$gt": 1, "b": 2}}, "do not mix"),
        ([], "JSON object"),
    ],
)
def test_bad_selectors_name_the_fault(selector: object, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        query.parse(selector)


def test_to_sql_uses_one_index_scan_per_condition_with_parameters() -> None:
    sql, params = query.to_sql(query.parse({"type": "visit", "due": {"$lte": "2026-12"}}),
                               ["type", "due"])
    equal = "SELECT doc_id FROM fields WHERE field = ? AND (rank = ? AND value = ?)"
    at_most = "SELECT doc_id FROM fields WHERE field = ? AND (rank, value) <= (?, ?)"
    assert sql == f"SELECT doc_id FROM ({equal}) INTERSECT SELECT doc_id FROM ({at_most})"
    assert params == ["type", 3, "visit", "due", 3, "2026-12"]


def test_to_sql_or_in_exists_and_null() -> None:
    sql, params = query.to_sql(
        query.parse({"$or": [{"a": None}, {"b": {"$in": [True, 2]}}, {"c": {"$exists": False}}]}),
        ["a", "b", "c"],
    )
    assert sql.count(" UNION ") == 2
    assert "rank = ?" in sql and "EXCEPT" in sql
    assert params == ["a", 0, "b", 1, 1, 2, 2, "c"]


def test_to_sql_refuses_fields_without_an_index() -> None:
    with pytest.raises(BadRequest, match="no index on secret"):
        query.to_sql(query.parse({"secret": 1, "type": "x"}), ["type"])


def test_collation_ranks_follow_couchdb() -> None:
    ordered = [None, False, True, -1, 2.5, 10, "", "a", "b", [1], {"k": 1}]
    keys = [query.rank_of(v) for v in ordered]
    assert [k[0] for k in keys] == sorted(k[0] for k in keys)


@pytest.mark.parametrize(
    "selector, expected",
    [
        ({"type": "visit"}, True),
        ({"type": {"$ne": "visit"}}, False),
        ({"age": {"$gte": 81}}, True),
        ({"age": {"$gt": "80"}}, False),  # numbers sort before strings
        ({"age": {"$lt": "80"}}, True),
        ({"citizen": {"ward": {"$in": ["1", "26734"]}}}, True),
        ({"missing": {"$exists": False}}, True),
        ({"missing": {"$ne": 1}}, False),  # a missing field matches nothing but $exists
        ({"$or": [{"type": "x"}, {"citizen.ward": "26734"}]}, True),
        ({"$and": [{"type": "visit"}, {"age": None}]}, False),
    ],
)
def test_matches_evaluates_the_same_rules_in_memory(selector: dict, expected: bool) -> None:
    doc = {"type": "visit", "age": 81, "citizen": {"ward": "26734"}, "tags": ["a", "b"]}
    assert query.matches(query.parse(selector), doc) is expected


def test_order_by() -> None:
    assert query.order_by([{"due": "desc"}, {"officer": "desc"}], ["due", "officer"]) == (
        ["due", "officer"], True)
    with pytest.raises(BadRequest, match="same direction"):
        query.order_by([{"due": "desc"}, "officer"], ["due", "officer"])
