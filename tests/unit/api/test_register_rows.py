"""The register row of a dossier, computed from its documents alone (no store, no clock)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from api.register.compute import (
    DossierDocs,
    compute_row,
    fold_docs,
    search_text,
    timeliness_on,
)
from dossiers.calendar import LOCAL_TZ, WorkingCalendar, default_calendar
from dossiers.catalogue import Catalogue, load_catalogue

PROCEDURE = "1.000419"  # 5 working days
CODE = "DEV01-000001"
DOSSIER_ID = f"dossier:{CODE}"
RECEIVED = dt.datetime(2026, 3, 2, 9, 0, tzinfo=LOCAL_TZ)  # a Monday


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return default_calendar()


def dossier(**changes: Any) -> dict[str, Any]:
    version = load_catalogue().get(PROCEDURE).latest.version
    return {"_id": DOSSIER_ID, "type": "dossier", "provisional_code": CODE,
            "procedure_code": PROCEDURE, "procedure_version": version, "form": {},
            "officer_id": "officer1", "access": ["officer:officer1", "ward:00004"],
            "applicant": {"full_name": "Đặng Thị Hường", "identity_number": "001190012345"},
            "received_at": RECEIVED.isoformat(), **changes}


def event(kind: str, at: dt.datetime, n: int = 1, role: str = "handler",
          **extra: Any) -> dict[str, Any]:
    event_id = f"event:{DOSSIER_ID}:{kind}:{n}"
    return {"_id": event_id, "_rev": "1-a", "type": "event", "schema": 1, "id": event_id,
            "access": ["officer:officer1"], "dossier": CODE, "kind": kind,
            "at": at.isoformat(), "actor": "someone", "role": role, **extra}


def received(at: dt.datetime = RECEIVED) -> dict[str, Any]:
    return event("received", at, role="officer")


def outcome(status: str = "received", **extra: Any) -> dict[str, Any]:
    base = {"_id": f"intake:{DOSSIER_ID}", "type": "intake-outcome", "status": status,
            "dossier_id": DOSSIER_ID, "reasons": []}
    if status == "received":
        base.update(official_code="000.00.01.H22-260302-0001", appointment_date="2026-03-09",
                    received_at=RECEIVED.isoformat())
    return {**base, **extra}


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, 0, tzinfo=LOCAL_TZ)


def test_a_dossier_without_intake_outcome_is_submitted(catalogue: Catalogue,
                                                       calendar: WorkingCalendar) -> None:
    row = compute_row(DossierDocs(dossier()), catalogue, calendar, at(3))
    assert row.status == "submitted"
    assert row.official_code is None and row.due_date is None and row.portal_status is None
    assert row.received_at == RECEIVED  # the device's receipt time until intake fixes one
    assert row.timeliness == "pending"
    assert row.ward == "00004" and row.officer_id == "officer1"
    assert row.procedure_name == catalogue.get(PROCEDURE).latest.name


def test_needs_attention_carries_the_outcome_reasons(catalogue: Catalogue,
                                                     calendar: WorkingCalendar) -> None:
    reasons = ["Chữ ký của thiết bị không hợp lệ.", "Tờ khai đã bị sửa sau khi ký."]
    docs = DossierDocs(dossier(), outcome=outcome("needs_attention", reasons=reasons))
    row = compute_row(docs, catalogue, calendar, at(3))
    assert row.status == "needs_attention"
    assert row.attention_reasons == tuple(reasons)


def test_received_dossier_takes_status_and_due_date_from_the_fold(
        catalogue: Catalogue, calendar: WorkingCalendar) -> None:
    # The intake's received event is a day later than the device's receipt: the fold's
    # due date (from the event) wins over the outcome's appointment.
    docs = DossierDocs(dossier(), events=(received(at(3, 9)),), outcome=outcome())
    row = compute_row(docs, catalogue, calendar, at(3))
    assert row.status == "received" and row.portal_status == 1
    assert row.due_date == calendar.add_working_days(dt.date(2026, 3, 3), 5)
    assert row.due_date != dt.date(2026, 3, 9)
    assert row.official_code == "000.00.01.H22-260302-0001"
    assert row.received_at == at(3, 9)


def test_without_a_fold_the_due_date_falls_back_to_the_appointment(
        catalogue: Catalogue, calendar: WorkingCalendar) -> None:
    # An unknown procedure version: no deadline policy, so nothing is folded.
    docs = DossierDocs(dossier(procedure_version="1999-01-01"), events=(received(),),
                       outcome=outcome())
    row = compute_row(docs, catalogue, calendar, at(3))
    assert row.due_date == dt.date(2026, 3, 9) == row.due_before_extension
    assert row.status == "received"  # intake's word: the events could not be judged
    assert fold_docs(docs, catalogue, calendar).state is None


def test_extension_moves_the_due_date_not_the_one_before_it(
        catalogue: Catalogue, calendar: WorkingCalendar) -> None:
    first_due = calendar.add_working_days(RECEIVED.date(), 5)
    new_date = calendar.add_working_days(first_due, 3)
    events = (received(), event("accepted", at(2, 11)), event("processing", at(2, 12)),
              event("extension_requested", at(3), apology="Xin lỗi ông bà.",
                    new_appointment=new_date.isoformat()))
    row = compute_row(DossierDocs(dossier(), events=events, outcome=outcome()), catalogue,
                      calendar, at(4))
    assert row.status == "processing" and row.portal_status == 4
    assert (row.due_before_extension, row.due_date) == (first_due, new_date)


def test_resolution_before_the_due_date_is_early_and_ends_processing(
        catalogue: Catalogue, calendar: WorkingCalendar) -> None:
    events = (received(), event("accepted", at(2, 11)), event("processing", at(2, 12)),
              event("resolved", at(4)), event("result_ready", at(4, 11)))
    docs = DossierDocs(dossier(), events=events, outcome=outcome(),
                       result={"_id": f"result:{DOSSIER_ID}", "type": "result"})
    row = compute_row(docs, catalogue, calendar, at(4, 12))
    assert row.status == "result_ready" and row.has_result
    assert row.ended_at == at(4)
    assert row.timeliness == "early"
    # Settled: later days do not change it.
    assert timeliness_on(row, dt.date(2026, 6, 1)) == "early"


def test_an_open_dossier_turns_late_the_day_after_its_due_date(
        catalogue: Catalogue, calendar: WorkingCalendar) -> None:
    row = compute_row(DossierDocs(dossier(), events=(received(),), outcome=outcome()),
                      catalogue, calendar, at(2, 10))
    due = row.due_before_extension
    assert due is not None and row.timeliness == "pending" and row.ended_at is None
    assert timeliness_on(row, due) == "pending"
    assert timeliness_on(row, due + dt.timedelta(days=1)) == "late"


def test_two_supplement_requests_count_as_late_and_are_counted(
        catalogue: Catalogue, calendar: WorkingCalendar) -> None:
    events = (received(), event("supplement_requested", at(2, 10), role="officer",
                                missing=["Giấy khai sinh"]),
              event("supplemented", at(3), role="officer"), event("accepted", at(3, 11)),
              event("supplement_requested", at(4), n=2, missing=["Ảnh chân dung"]))
    row = compute_row(DossierDocs(dossier(), events=events, outcome=outcome()), catalogue,
                      calendar, at(4, 12))
    assert row.supplement_requests == 2
    assert row.status == "supplement_requested" and row.portal_status == 5
    assert row.timeliness == "late"


def test_refused_and_unreadable_events_change_nothing(catalogue: Catalogue,
                                                      calendar: WorkingCalendar) -> None:
    events = (received(), event("resolved", at(3)),  # refused: not in processing
              {"_id": "event:broken", "type": "event", "kind": "accepted"})  # unreadable
    docs = DossierDocs(dossier(), events=events, outcome=outcome())
    folded = fold_docs(docs, catalogue, calendar)
    assert folded.state is not None and folded.state.status == "received"
    assert [r.kind for r in folded.state.refused] == ["resolved"]
    assert [r.event_id for r in folded.unreadable] == ["event:broken"]
    assert compute_row(docs, catalogue, calendar, at(3)).status == "received"


def test_search_text_folds_accents_case_and_d(catalogue: Catalogue,
                                              calendar: WorkingCalendar) -> None:
    row = compute_row(DossierDocs(dossier()), catalogue, calendar, at(3))
    assert search_text(row) == "dang thi huong 001190012345"


def test_a_malformed_dossier_still_gets_a_row(catalogue: Catalogue,
                                              calendar: WorkingCalendar) -> None:
    docs = DossierDocs({"_id": DOSSIER_ID, "type": "dossier", "access": "not a list"})
    row = compute_row(docs, catalogue, calendar, at(3))
    assert row.dossier_id == DOSSIER_ID and row.status == "submitted"
    assert row.ward is None and row.applicant_name == "" and row.procedure_name == ""
