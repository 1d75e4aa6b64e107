"""The dossier list's common queries are answered from SQLite indexes, in the list's order:
checked with EXPLAIN QUERY PLAN on a register built from a few thousand dossiers (enough
for the build to gather planner statistics, as it does for 100,000)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import register_helpers
from register_helpers import LOCAL_TZ

from api.register.queries import DossierQuery, encode_cursor
from api.register.service import Register
from sync.store import Store

TODAY = dt.date(2026, 4, 1)


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Register]:
    where: Path = tmp_path_factory.mktemp("register")
    store = Store(where / "db")
    central = store.open("doorstep", create=True)
    start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=LOCAL_TZ)
    register_helpers.store(central, list(register_helpers.many(3000, start)))
    opened = Register.open(central, where)
    opened.catch_up()
    yield opened
    opened.close()
    central.close()


CURSOR = encode_cursor("2026-03-20", "dossier:BULK01-001000")
# Queries answered by walking an index in (due date, id) order: no sort, no table scan.
ORDERED = [
    DossierQuery(),
    DossierQuery(cursor=CURSOR),
    DossierQuery(status=("processing",)),
    DossierQuery(status=("received",), cursor=CURSOR),
    DossierQuery(procedure="1.001776"),
    DossierQuery(officer="officer2"),
    DossierQuery(ward="00003"),
    DossierQuery(overdue=True),
    DossierQuery(due_within_days=3),
    DossierQuery(officer="officer1", due_within_days=5),
    DossierQuery(due_from=dt.date(2026, 3, 10), due_to=dt.date(2026, 3, 20)),
]
# Queries that narrow through another index first (received range, text), then sort the
# few rows found.
NARROWED = [
    DossierQuery(received_from=dt.date(2026, 3, 5), received_to=dt.date(2026, 3, 6)),
    DossierQuery(text="nguyen thi"),
    DossierQuery(text="001045"),
]


def _full_scan(plan: list[str]) -> bool:
    return any(step.startswith("SCAN rows") and "INDEX" not in step for step in plan)


@pytest.mark.parametrize("query", ORDERED, ids=repr)
def test_common_filters_walk_an_index_in_list_order(register: Register,
                                                    query: DossierQuery) -> None:
    plan = register.plan(query, TODAY)
    assert not _full_scan(plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan
    assert any("INDEX rows_" in step for step in plan), plan


@pytest.mark.parametrize("query", NARROWED, ids=repr)
def test_range_and_text_queries_narrow_through_an_index(register: Register,
                                                        query: DossierQuery) -> None:
    plan = register.plan(query, TODAY)
    assert not _full_scan(plan), plan
    assert any("INDEX rows_" in step or "VIRTUAL TABLE" in step for step in plan), plan


def test_the_plans_answer_what_the_rows_say(register: Register) -> None:
    # The indexes are only worth having if they give the right rows: spot-check two.
    page = register.search(DossierQuery(officer="officer2", limit=200), TODAY)
    assert page.rows and all(r.officer_id == "officer2" for r in page.rows)
    found = register.search(DossierQuery(text="nguyen thi", limit=200), TODAY).rows
    assert found and all(r.applicant_name.startswith("Nguyễn Thị") for r in found)


def test_both_text_plans_find_the_same_rows(register: Register,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # A key with fewer matches than the cap narrows through the trigram index; a common one
    # is tested row by row in list order. Force each plan on the same keys: same answers.
    for text in ("nguyen thi", "huong", "00104"):
        query = DossierQuery(text=text, limit=200)
        narrowed = register.search(query, TODAY)
        assert any("json_each" in step for step in register.plan(query, TODAY))
        monkeypatch.setattr("api.register.service.TEXT_CAP", 1)
        assert any("rows_due" in step for step in register.plan(query, TODAY))
        tested = register.search(query, TODAY)
        monkeypatch.undo()
        assert narrowed.rows and narrowed == tested, text
