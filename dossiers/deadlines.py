"""Appointment dates for a dossier and the national portal's early / on-time / late rule.

`DeadlinePolicy` ties a procedure's time limit (for this declaration) to the working-day
calendar; the workflow asks it for a due date whenever the clock (re)starts: at receipt and
when the complete dossier arrives after a supplement request.

Classification follows the Cổng DVCQG index-766 method (Decision 766/QĐ-TTg):
- the end of processing is, in priority, the time it was resolved ("Đã xử lý xong"), then
  returned, then stopped or rejected, then withdrawn; while a supplement request is open,
  the request time (the clock is stopped);
- more than one supplement request counts as late;
- end date < appointment → early; = → on time; > → late (calendar dates in Asia/Ho_Chi_Minh);
- unfinished at `as_of`: late once `as_of` is past the appointment, otherwise pending.
The appointment compared is the one before any extension: an extension comes with an
apology for lateness. Whether index 766 counts a result returned by the extended date
(NgayHenTraMoi) as on time is not stated in the sources read (unverified).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from dossiers.calendar import WorkingCalendar, local_time
from dossiers.catalogue import TimeLimit
from dossiers.workflow import DossierState, Status


class DeadlinePolicy:
    """How to compute due dates for one dossier: its time limit and the calendar."""

    def __init__(
        self, calendar: WorkingCalendar, limit: TimeLimit, *, verification: bool = False
    ) -> None:
        self.calendar = calendar
        self.limit = limit
        self.verification = verification

    def due(self, complete_at: dt.datetime) -> dt.date:
        return self.calendar.due_date(complete_at, self.limit, verification=self.verification)

    @staticmethod
    def local_date(moment: dt.datetime) -> dt.date:
        return local_time(moment).date()


class Timeliness(StrEnum):
    EARLY = "early"
    ON_TIME = "on_time"
    LATE = "late"
    PENDING = "pending"


TIMELINESS_LABELS: dict[Timeliness, str] = {
    Timeliness.EARLY: "Trước hạn",
    Timeliness.ON_TIME: "Đúng hạn",
    Timeliness.LATE: "Quá hạn",
    Timeliness.PENDING: "Chưa đến hạn",
}

_END_PRIORITY: tuple[Status, ...] = (
    Status.RESOLVED,
    Status.RETURNED,
    Status.STOPPED,
    Status.REJECTED,
    Status.WITHDRAWN,
)


def end_of_processing(state: DossierState) -> dt.datetime | None:
    """NgayKetThucXuLy: when processing ended, by the portal's priority, or None."""
    for status in _END_PRIORITY:
        if status.value in state.reached:
            return state.reached[status.value]
    if state.status is Status.SUPPLEMENT_REQUESTED:
        return state.open_supplement_at
    return None


def classify(state: DossierState, as_of: dt.datetime) -> Timeliness:
    """Early, on time, late or pending, by the national portal's rule."""
    due = state.due_before_extension
    if due is None:
        return Timeliness.PENDING
    if state.supplement_requests > 1:
        return Timeliness.LATE
    end = end_of_processing(state)
    if end is None:
        return Timeliness.LATE if local_time(as_of).date() > due else Timeliness.PENDING
    end_day = local_time(end).date()
    if end_day < due:
        return Timeliness.EARLY
    return Timeliness.ON_TIME if end_day == due else Timeliness.LATE
