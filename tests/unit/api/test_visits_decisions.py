"""Visit decisions, pure: what a new, rescheduled, reassigned or cancelled visit becomes."""

from __future__ import annotations

import datetime as dt
import unicodedata

import msgspec
import pytest

from api.errors import ConflictError, InvalidInput
from api.visits.decisions import (
    cancelled,
    new_visit_id,
    officer_problem,
    plan_visit,
    reassigned,
    rescheduled,
    view,
)
from api.visits.schemas import NewVisit, Schedule, decode_body
from dossiers.catalogue import load_catalogue
from dossiers.errors import ValidationFailed
from dossiers.examples import _example_data

TODAY = dt.date(2026, 3, 2)
CATALOGUE = load_catalogue()


def _request(**changes: object) -> NewVisit:
    body = {"citizen": msgspec.to_builtins(_example_data().citizen), "procedures": ["1.001776"],
            "priority_group": "nguoi_co_cong", "officer_id": "o1", "planned_date": "2026-03-03",
            "ward": "00004", **changes}
    return decode_body(body, NewVisit)


def _visit(**changes: object) -> object:
    return plan_visit(_request(**changes), "v1", CATALOGUE, TODAY, None)


def test_a_new_visit_is_nfc_and_given_to_its_officer_and_ward() -> None:
    person = {**msgspec.to_builtins(_example_data().citizen),
              "full_name": unicodedata.normalize("NFD", " Phạm Thị Dung ")}
    visit = plan_visit(_request(citizen=person), "v1", CATALOGUE, TODAY, None)
    assert visit.citizen.full_name == unicodedata.normalize("NFC", "Phạm Thị Dung")
    assert visit.access == ("officer:o1", "ward:00004")
    assert (visit.status, visit.cancel_reason) == ("planned", None)
    assert visit.citizen.phone == "+84912345678"


def test_every_problem_is_listed_at_once() -> None:
    bad = officer_problem("h1", "handler", False)
    with pytest.raises(ValidationFailed) as caught:
        plan_visit(_request(planned_date="2026-03-01", ward="x", procedures=["0.0"]), "v1",
                   CATALOGUE, TODAY, bad)
    fields = {e.field for e in caught.value.errors}
    assert fields == {"planned_date", "ward", "procedures", "officer_id"}


@pytest.mark.parametrize(("role", "disabled", "words"), [
    (None, False, "không có người dùng"), ("handler", False, "không phải cán bộ"),
    ("officer", True, "đã bị khoá")])
def test_only_enabled_officers_take_visits(role: str | None, disabled: bool, words: str) -> None:
    problem = officer_problem("x", role, disabled)
    assert problem is not None and problem.field == "officer_id" and words in problem.message
    assert officer_problem("x", "officer", False) is None


def test_reassigning_moves_the_officer_principal_and_keeps_the_ward() -> None:
    visit = _visit()
    moved = reassigned(visit, "o2", None)
    assert moved.access == ("officer:o2", "ward:00004") and moved.officer_id == "o2"
    with pytest.raises(ValidationFailed):
        reassigned(visit, "h1", officer_problem("h1", "handler", False))


def test_a_cancelled_visit_is_neither_moved_nor_cancelled_again() -> None:
    visit = cancelled(_visit(), unicodedata.normalize("NFD", " Gia đình báo vắng nhà "))
    assert visit.status == "cancelled" and visit.cancel_reason == "Gia đình báo vắng nhà"
    assert visit.access == ("officer:o1", "ward:00004")  # stays on the device, marked
    for act in (lambda: reassigned(visit, "o2", None),
                lambda: rescheduled(visit, dt.date(2026, 3, 9), CATALOGUE, TODAY),
                lambda: cancelled(visit, "again")):
        with pytest.raises(ConflictError, match="Gia đình báo vắng nhà"):
            act()
    with pytest.raises(ValidationFailed):
        cancelled(_visit(), "   ")
    with pytest.raises(ValidationFailed):
        cancelled(_visit(), "x" * 501)


def test_rescheduling_refuses_the_past() -> None:
    visit = _visit()
    assert rescheduled(visit, TODAY, CATALOGUE, TODAY).planned_date == TODAY
    with pytest.raises(ValidationFailed, match="Ngày hẹn"):
        rescheduled(visit, TODAY - dt.timedelta(days=1), CATALOGUE, TODAY)


def test_view_shows_the_ward() -> None:
    assert view(_visit()).ward == "00004"


def test_ids_are_unique_and_dated() -> None:
    ids = {new_visit_id(TODAY) for _ in range(1000)}
    assert len(ids) == 1000 and all(i.startswith("260302-") for i in ids)


@pytest.mark.parametrize(("body", "named"), [
    ({}, "planned_date"), ({"planned_date": "2026-02-30"}, "planned_date"),
    ({"planned_date": "2026-03-03", "officer_id": "x"}, "officer_id"),
])
def test_bodies_are_decoded_with_the_field_named(body: dict[str, object], named: str) -> None:
    with pytest.raises(InvalidInput, match=f"«{named}»"):
        decode_body(body, Schedule)
