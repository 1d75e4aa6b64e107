"""Reports computed from register rows: pure functions, no I/O, the same input the same answer.

Guarantees:
- Grouping keys: `procedure` (national code), `officer` (username), `ward` (commune code;
  "" when the dossier has none), `month` (the month of receipt in Asia/Ho_Chi_Minh,
  "YYYY-MM"; "" when not received). The rows are selected by their receipt date, so a
  dossier falls in exactly one month of the range. The portal's own monthly tables count
  a finished dossier in the month its processing ended; a report by month of receipt is
  what a range of receipt dates can answer without double counting.
- Timeliness trusts the row's `timeliness`, which the register computes with
  `dossiers.deadlines.classify` (index 766: end of processing vs. the appointment before
  any extension; more than one supplement request is late; unfinished and past the
  appointment is late). Dossiers not yet received (awaiting intake, needs attention) have
  no appointment and are left out of timeliness and resolution time; volumes count them.
- Rates are fractions of finished dossiers (processing ended: resolved, result ready,
  returned, rejected, withdrawn, stopped); percentages round half-up to 0.01.
- Resolution time counts working days (`WorkingCalendar.working_days_between`, i.e. the
  working days in (day received, day ended], local dates) for dossiers resolved
  (resolved, result ready, returned), not rejected or withdrawn ones.
- The overdue list holds unfinished dossiers whose current appointment (after any
  extension) is before `today`, oldest appointment first. A dossier waiting for the
  citizen's supplement is left out: its clock is stopped and restarts from zero when the
  complete dossier arrives (Decree 61/2018 Art 19).
- Lines are sorted by key; every report has a total line over all its rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

from api.register.rows import RegisterRow
from api.reports.schemas import (
    Average,
    Grouping,
    OverdueItem,
    Rate,
    ResolutionLine,
    TimelinessLine,
    VolumeLine,
)
from dossiers.calendar import WorkingCalendar, local_time
from dossiers.workflow import STATUS_LABELS, Status

FINISHED: frozenset[str] = frozenset(
    s.value for s in (Status.RESOLVED, Status.RESULT_READY, Status.RETURNED, Status.REJECTED,
                      Status.WITHDRAWN, Status.STOPPED)
)
RESOLVED: frozenset[str] = frozenset(
    s.value for s in (Status.RESOLVED, Status.RESULT_READY, Status.RETURNED)
)
AWAITING_INTAKE = "submitted"
NEEDS_ATTENTION = "needs_attention"
NOT_RECEIVED: frozenset[str] = frozenset({AWAITING_INTAKE, NEEDS_ATTENTION})
CLOCK_STOPPED: frozenset[str] = frozenset({Status.SUPPLEMENT_REQUESTED.value})

TOTAL_KEY = "*"
TOTAL_LABEL = "Tổng cộng"
_EXTRA_STATUS_LABELS = {AWAITING_INTAKE: "Chờ tiếp nhận", NEEDS_ATTENTION: "Cần xem xét"}
_CENT = Decimal("0.01")
L = TypeVar("L")


@dataclass(frozen=True)
class Labels:
    """Vietnamese names for keys: officers' full names by username (others come from rows)."""

    officers: Mapping[str, str] = field(default_factory=dict)

    def officer(self, username: str) -> str:
        return self.officers.get(username) or username


def status_label(status: str) -> str:
    if status in _EXTRA_STATUS_LABELS:
        return _EXTRA_STATUS_LABELS[status]
    try:
        return STATUS_LABELS[Status(status)]
    except ValueError:
        return status


def _rounded(numerator: int, denominator: int) -> float | None:
    if denominator == 0:
        return None
    value = (Decimal(numerator) / Decimal(denominator)).quantize(_CENT, rounding=ROUND_HALF_UP)
    return float(value)


def rate(numerator: int, denominator: int) -> Rate:
    return Rate(numerator=numerator, denominator=denominator,
                percent=_rounded(100 * numerator, denominator))


def average(values: list[int]) -> Average:
    return Average(total=sum(values), count=len(values),
                   value=_rounded(sum(values), len(values)))


class _DayCounter:
    """`working_days_between`, remembered per pair of days: thousands of rows share a few
    hundred dates, and the calendar counts day by day."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.calendar = calendar
        self._known: dict[tuple[dt.date, dt.date], int] = {}

    def __call__(self, start: dt.date, end: dt.date) -> int:
        key = (start, end)
        if key not in self._known:
            self._known[key] = self.calendar.working_days_between(start, end)
        return self._known[key]


def group_key(row: RegisterRow, by: Grouping) -> str:
    if by == "procedure":
        return row.procedure_code
    if by == "officer":
        return row.officer_id
    if by == "ward":
        return row.ward or ""
    if row.received_at is None:
        return ""
    return f"{local_time(row.received_at):%Y-%m}"


def key_label(by: Grouping, key: str, sample: RegisterRow, labels: Labels) -> str:
    """The Vietnamese label of a group; `sample` is any row of it."""
    if by == "procedure":
        return sample.procedure_name or key
    if by == "officer":
        return labels.officer(key)
    if by == "ward":
        return f"Xã/phường {key}" if key else "Không rõ xã/phường"
    if not key:
        return "Chưa rõ tháng tiếp nhận"
    year, month = key.split("-")
    return f"Tháng {month}/{year}"


def _groups(
    rows: Iterable[RegisterRow], by: Grouping
) -> list[tuple[str, list[RegisterRow]]]:
    grouped: dict[str, list[RegisterRow]] = {}
    for row in rows:
        grouped.setdefault(group_key(row, by), []).append(row)
    return sorted(grouped.items())


def _lines(
    rows: list[RegisterRow], by: Grouping, labels: Labels,
    line: Callable[[str, str, list[RegisterRow]], L],
) -> tuple[list[L], L]:
    lines = [line(key, key_label(by, key, members[0], labels), members)
             for key, members in _groups(rows, by)]
    return lines, line(TOTAL_KEY, TOTAL_LABEL, rows)


# --- timeliness -----------------------------------------------------------------------------


def received(row: RegisterRow) -> bool:
    """Taken in by intake, so it has an appointment and a timeliness."""
    return row.status not in NOT_RECEIVED and row.received_at is not None


def timeliness_line(key: str, label: str, rows: list[RegisterRow]) -> TimelinessLine:
    counts = {"early": 0, "on_time": 0, "late": 0, "overdue": 0, "pending": 0}
    for row in rows:
        if row.status in FINISHED:
            counts[row.timeliness if row.timeliness in ("early", "on_time") else "late"] += 1
        else:
            counts["overdue" if row.timeliness == "late" else "pending"] += 1
    finished = counts["early"] + counts["on_time"] + counts["late"]
    return TimelinessLine(
        key=key, label=label, dossiers=len(rows), finished=finished, **counts,
        early_rate=rate(counts["early"], finished),
        on_time_rate=rate(counts["on_time"], finished),
        late_rate=rate(counts["late"], finished),
        timely_rate=rate(counts["early"] + counts["on_time"], finished),
    )


def timeliness(
    rows: Iterable[RegisterRow], by: Grouping, labels: Labels
) -> tuple[list[TimelinessLine], TimelinessLine]:
    """Early / on time / late / overdue / pending per group, and the total."""
    return _lines([r for r in rows if received(r)], by, labels, timeliness_line)


# --- volumes --------------------------------------------------------------------------------


def volume_line(key: str, label: str, rows: list[RegisterRow]) -> VolumeLine:
    finished = sum(r.status in FINISHED for r in rows)
    attention = sum(r.status == NEEDS_ATTENTION for r in rows)
    waiting = sum(r.status == AWAITING_INTAKE for r in rows)
    return VolumeLine(key=key, label=label, received=len(rows), finished=finished,
                      in_progress=len(rows) - finished - attention - waiting,
                      needs_attention=attention, awaiting_intake=waiting)


def volumes(
    rows: Iterable[RegisterRow], by: Grouping, labels: Labels
) -> tuple[list[VolumeLine], VolumeLine]:
    return _lines(list(rows), by, labels, volume_line)


# --- resolution time ------------------------------------------------------------------------


def working_days_to_resolve(
    row: RegisterRow, between: Callable[[dt.date, dt.date], int]
) -> int | None:
    """Working days in (day received, day processing ended], or None if not resolved."""
    if row.status not in RESOLVED or row.received_at is None or row.ended_at is None:
        return None
    return between(local_time(row.received_at).date(), local_time(row.ended_at).date())


def resolution_time(
    rows: Iterable[RegisterRow], by: Grouping, labels: Labels, calendar: WorkingCalendar
) -> tuple[list[ResolutionLine], ResolutionLine]:
    rows = list(rows)
    between = _DayCounter(calendar)
    days = {row.dossier_id: working_days_to_resolve(row, between) for row in rows
            if received(row)}
    resolved = [r for r in rows if days.get(r.dossier_id) is not None]

    def line(key: str, label: str, members: list[RegisterRow]) -> ResolutionLine:
        values = [d for d in (days[r.dossier_id] for r in members) if d is not None]
        return ResolutionLine(key=key, label=label, resolved=len(values),
                              average_working_days=average(values),
                              min_working_days=min(values, default=None),
                              max_working_days=max(values, default=None))

    return _lines(resolved, by, labels, line)


# --- overdue --------------------------------------------------------------------------------


def is_overdue(row: RegisterRow, today: dt.date) -> bool:
    return (received(row) and row.status not in FINISHED and row.status not in CLOCK_STOPPED
            and row.due_date is not None and row.due_date < today)


def overdue(
    rows: Iterable[RegisterRow], today: dt.date, labels: Labels, calendar: WorkingCalendar
) -> list[OverdueItem]:
    """Unfinished dossiers past their current appointment, oldest appointment first."""
    late = [r for r in rows if is_overdue(r, today)]
    late.sort(key=lambda r: (r.due_date, r.received_at, r.dossier_id))
    counted = _DayCounter(calendar)
    return [_overdue_item(r, today, labels, counted) for r in late]


def _overdue_item(
    row: RegisterRow, today: dt.date, labels: Labels, between: _DayCounter
) -> OverdueItem:
    assert row.due_date is not None  # is_overdue checked it
    return OverdueItem(
        dossier_id=row.dossier_id, official_code=row.official_code,
        provisional_code=row.provisional_code, procedure_code=row.procedure_code,
        procedure_name=row.procedure_name, officer_id=row.officer_id,
        officer_name=labels.officer(row.officer_id), ward=row.ward,
        applicant_name=row.applicant_name, status=row.status,
        status_label=status_label(row.status), received_at=row.received_at,
        due_date=row.due_date,
        extended=row.due_before_extension is not None and row.due_date != row.due_before_extension,
        working_days_overdue=between(row.due_date, today),
    )
