"""Deadlines that restart after a supplement, and the portal's early / on-time / late rule."""

from __future__ import annotations

import datetime as dt

import pytest
from dossier_helpers import EventFactory, limit, vn

from dossiers.calendar import WorkingCalendar
from dossiers.deadlines import DeadlinePolicy, Timeliness, classify, end_of_processing
from dossiers.workflow import fold

E, T, L, P = Timeliness.EARLY, Timeliness.ON_TIME, Timeliness.LATE, Timeliness.PENDING
MISSING = {"missing": ("Giấy báo tử",)}
DONE = [("accepted", "handler"), ("processing", "handler")]

# name, limit (kind, days), [(kind, local time, role, body)], as_of, expected due, expected class
CASES = [
    ("resolved early", ("working_days", 3), [
        ("received", "2026-03-02 10:00", "officer", {}),
        ("accepted", "2026-03-02 11:00", "handler", {}),
        ("processing", "2026-03-02 12:00", "handler", {}),
        ("resolved", "2026-03-04 16:00", "handler", {}),
    ], "2026-03-31 12:00", "2026-03-05", E),
    ("resolved on the day", ("working_days", 3), [
        ("received", "2026-03-02 10:00", "officer", {}),
        ("accepted", "2026-03-02 11:00", "handler", {}),
        ("processing", "2026-03-02 12:00", "handler", {}),
        ("resolved", "2026-03-05 17:30", "handler", {}),
        ("result_ready", "2026-03-06 08:00", "handler", {}),
        ("returned", "2026-03-09 09:00", "officer", {}),  # resolution time wins over return
    ], "2026-03-31 12:00", "2026-03-05", T),
    ("resolved late", ("working_days", 3), [
        ("received", "2026-03-02 10:00", "officer", {}),
        ("accepted", "2026-03-02 11:00", "handler", {}),
        ("processing", "2026-03-02 12:00", "handler", {}),
        ("resolved", "2026-03-06 08:00", "handler", {}),
    ], "2026-03-31 12:00", "2026-03-05", L),
    ("rejected at intake", ("working_days", 3), [
        ("received", "2026-03-02 10:00", "officer", {}),
        ("rejected", "2026-03-02 10:30", "officer", {"reason": "Không thuộc thẩm quyền"}),
    ], "2026-03-31 12:00", "2026-03-05", E),
    ("withdrawn after the appointment", ("working_days", 3), [
        ("received", "2026-03-02 10:00", "officer", {}),
        ("accepted", "2026-03-02 11:00", "handler", {}),
        ("withdrawn", "2026-03-06 09:00", "officer", {}),
    ], "2026-03-31 12:00", "2026-03-05", L),
    ("supplement restarts the clock across Tết 2026", ("working_days", 3), [
        ("received", "2026-02-10 10:00", "officer", {}),  # due 13/02
        ("supplement_requested", "2026-02-11 09:00", "officer", MISSING),
        ("supplemented", "2026-02-13 14:00", "officer", {}),  # due 23, 24, 25/02
        ("accepted", "2026-02-13 15:00", "handler", {}),
        ("processing", "2026-02-23 08:00", "handler", {}),
        ("resolved", "2026-02-25 16:00", "handler", {}),
    ], "2026-03-31 12:00", "2026-02-25", T),
    ("open supplement stops the clock at the request", ("working_days", 3), [
        ("received", "2026-03-02 10:00", "officer", {}),
        ("accepted", "2026-03-02 11:00", "handler", {}),
        ("processing", "2026-03-02 12:00", "handler", {}),
        ("supplement_requested", "2026-03-04 09:00", "handler", MISSING),
    ], "2026-04-30 12:00", "2026-03-05", E),
    ("two supplement requests count as late", ("working_days", 3), [
        ("received", "2026-03-02 10:00", "officer", {}),
        ("supplement_requested", "2026-03-02 10:30", "officer", MISSING),
        ("supplemented", "2026-03-03 09:00", "officer", {}),
        ("accepted", "2026-03-03 10:00", "handler", {}),
        ("processing", "2026-03-03 11:00", "handler", {}),
        ("supplement_requested", "2026-03-03 14:00", "handler", MISSING),
        ("supplemented", "2026-03-04 09:00", "officer", {}),
        ("processing", "2026-03-04 10:00", "handler", {}),
        ("resolved", "2026-03-04 11:00", "handler", {}),
    ], "2026-03-31 12:00", "2026-03-09", L),
    ("unfinished before the appointment is pending", ("working_days", 3), [
        ("received", "2026-03-02 10:00", "officer", {}),
        ("accepted", "2026-03-02 11:00", "handler", {}),
    ], "2026-03-05 16:00", "2026-03-05", P),
    ("unfinished after the appointment is late", ("working_days", 3), [
        ("received", "2026-03-02 10:00", "officer", {}),
        ("accepted", "2026-03-02 11:00", "handler", {}),
    ], "2026-03-06 08:00", "2026-03-05", L),
    ("an extension does not make a late result on time", ("working_days", 3), [
        ("received", "2026-03-02 10:00", "officer", {}),
        ("accepted", "2026-03-02 11:00", "handler", {}),
        ("processing", "2026-03-02 12:00", "handler", {}),
        ("extension_requested", "2026-03-03 09:00", "handler",
         {"apology": "Xin lỗi.", "new_appointment": dt.date(2026, 3, 10)}),
        ("resolved", "2026-03-09 09:00", "handler", {}),
    ], "2026-03-31 12:00", "2026-03-10", L),
    ("same-day procedure after 15:00 before Tết", ("same_day", 0), [
        ("received", "2026-02-13 15:30", "officer", {}),
        ("accepted", "2026-02-13 15:40", "handler", {}),
        ("processing", "2026-02-13 15:50", "handler", {}),
        ("resolved", "2026-02-23 10:00", "handler", {}),
    ], "2026-03-31 12:00", "2026-02-23", T),
    ("same-day procedure resolved the next day is late", ("same_day", 0), [
        ("received", "2026-03-02 09:00", "officer", {}),
        ("accepted", "2026-03-02 09:10", "handler", {}),
        ("processing", "2026-03-02 09:20", "handler", {}),
        ("resolved", "2026-03-03 08:00", "handler", {}),
    ], "2026-03-31 12:00", "2026-03-02", L),
    ("2030: across Tết, early", ("working_days", 3), [
        ("received", "2030-01-30 10:00", "officer", {}),
        ("accepted", "2030-01-30 11:00", "handler", {}),
        ("processing", "2030-01-30 12:00", "handler", {}),
        ("resolved", "2030-02-08 10:00", "handler", {}),
    ], "2030-03-01 12:00", "2030-02-11", E),
    ("2030: across Tết, on time", ("working_days", 3), [
        ("received", "2030-01-30 10:00", "officer", {}),
        ("accepted", "2030-01-30 11:00", "handler", {}),
        ("processing", "2030-01-30 12:00", "handler", {}),
        ("resolved", "2030-02-11 16:00", "handler", {}),
    ], "2030-03-01 12:00", "2030-02-11", T),
    ("2030: supplement during Tết restarts from the day it arrives", ("working_days", 5), [
        ("received", "2030-01-28 10:00", "officer", {}),  # due 04/02 would fall in Tết
        ("supplement_requested", "2030-01-28 10:30", "officer", MISSING),
        ("supplemented", "2030-02-03 10:00", "officer", {}),  # Sunday in Tết: 7, 8, 11, 12, 13
        ("accepted", "2030-02-07 08:00", "handler", {}),
        ("processing", "2030-02-07 09:00", "handler", {}),
        ("resolved", "2030-02-14 09:00", "handler", {}),
    ], "2030-03-01 12:00", "2030-02-13", L),
]


@pytest.mark.parametrize(
    ("name", "rule", "steps", "as_of", "due", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_deadline_and_timeliness(
    name: str,
    rule: tuple[str, int],
    steps: list[tuple[str, str, str, dict[str, object]]],
    as_of: str,
    due: str,
    expected: Timeliness,
    event: EventFactory,
    calendar: WorkingCalendar,
) -> None:
    policy = DeadlinePolicy(calendar, limit(*rule))
    state = fold([event(kind, at, role, **body) for kind, at, role, body in steps], policy)
    assert not state.refused, state.refused
    assert state.due_date == dt.date.fromisoformat(due)
    assert classify(state, vn(as_of)) is expected


def test_end_of_processing_priority(event: EventFactory, policy: DeadlinePolicy) -> None:
    steps = [
        event("received", "2026-03-02 10:00", "officer"),
        event("accepted", "2026-03-02 11:00", "handler"),
        event("processing", "2026-03-02 12:00", "handler"),
        event("resolved", "2026-03-03 12:00", "handler"),
        event("result_ready", "2026-03-03 13:00", "handler"),
        event("returned", "2026-03-04 09:00", "officer"),
    ]
    assert end_of_processing(fold(steps, policy)) == vn("2026-03-03 12:00")
    assert end_of_processing(fold(steps[:3], policy)) is None


def test_verification_extends_the_appointment(
    event: EventFactory, calendar: WorkingCalendar
) -> None:
    policy = DeadlinePolicy(calendar, limit("working_days", 3, 5), verification=True)
    state = fold([event("received", "2026-03-02 10:00", "officer")], policy)
    assert state.due_date == dt.date(2026, 3, 12)  # 3 + 5 working days after Monday 02/03


def test_due_changes_are_recorded(event: EventFactory, policy: DeadlinePolicy) -> None:
    steps = [
        event("received", "2026-02-10 10:00", "officer"),
        event("supplement_requested", "2026-02-11 09:00", "officer", **MISSING),
        event("supplemented", "2026-02-13 14:00", "officer"),
    ]
    state = fold(steps, policy)
    assert [d for _, d in state.due_changes] == [dt.date(2026, 2, 13), dt.date(2026, 2, 25)]
