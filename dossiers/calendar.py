"""The working-day calendar of Vietnamese state agencies, and appointment dates.

Guarantees:
- A day is a working day when it is Monday–Friday and not a statutory holiday, nghỉ bù or
  announced swap day, or when it is listed as worked (a make-up Saturday). The order of
  precedence is: the override table, then the `holidays` package's Vietnamese calendar
  (its own lunar calendar at UTC+7, which differs from the Chinese one, e.g. Tết 2030),
  then the weekday.
- The override table is data: `calendar_overrides.json` in this package, per year; an
  administrator's table passed to `WorkingCalendar` replaces the packaged entry of every
  year it lists.
- `add_working_days(start, n)` is the n-th working day strictly after `start` (n ≥ 1), or
  the first working day on or after `start` (n = 0): always a working day, non-decreasing
  in `n` and in `start`.
- Times are interpreted in Asia/Ho_Chi_Minh; a naive datetime is refused, never guessed.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import msgspec

from dossiers.catalogue import TimeLimit
from dossiers.errors import CalendarInvalid, DossierError

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT_CUTOFF = dt.time(15, 0)
_WEEKDAY_NAMES = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
# A deadline search that runs this far without a working day means a broken override table.
_MAX_SCAN_DAYS = 60


class DayOverride(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    date: dt.date
    name: str
    verified: bool = False
    source: str = ""


class YearOverrides(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    announced: bool
    source: str
    days_off: tuple[DayOverride, ...] = ()
    working_days: tuple[DayOverride, ...] = ()


class OverrideTable(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    years: dict[int, YearOverrides]
    schema: int = 1
    about: str = ""
    checked_against: dict[str, str] = {}


def parse_overrides(data: Mapping[str, Any] | bytes) -> OverrideTable:
    """Check an override table (a mapping, or JSON bytes) and return it typed."""
    try:
        if isinstance(data, bytes):
            table = msgspec.json.decode(data, type=OverrideTable)
        else:
            table = msgspec.convert(dict(data), OverrideTable, strict=False)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise CalendarInvalid(f"Bảng ngày nghỉ, ngày làm bù không hợp lệ: {exc}") from exc
    for year, entry in table.years.items():
        for day in (*entry.days_off, *entry.working_days):
            if day.date.year != year:
                raise CalendarInvalid(
                    f"Bảng ngày nghỉ năm {year}: ngày {day.date:%d/%m/%Y} không thuộc năm {year}."
                )
        both = {d.date for d in entry.days_off} & {d.date for d in entry.working_days}
        if both:
            first = min(both)
            raise CalendarInvalid(
                f"Bảng ngày nghỉ năm {year}: ngày {first:%d/%m/%Y} vừa là ngày nghỉ "
                "vừa là ngày làm việc."
            )
    return table


@functools.cache
def packaged_overrides() -> OverrideTable:
    data = importlib.resources.files("dossiers").joinpath("calendar_overrides.json").read_bytes()
    return parse_overrides(data)


@functools.cache
def _package_year(year: int) -> tuple[dict[dt.date, str], frozenset[dt.date]]:
    """The package's holidays (with Vietnamese names) and worked weekend days for `year`."""
    calendar = holidays.country_holidays("VN", years=year, language="vi")
    days_off = {day: str(name) for day, name in calendar.items() if day.year == year}
    worked = frozenset(d for d in calendar.weekend_workdays if d.year == year)
    return days_off, worked


def local_time(moment: dt.datetime) -> dt.datetime:
    """`moment` in Asia/Ho_Chi_Minh; a naive datetime is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise DossierError(
            "Thời điểm phải kèm múi giờ (ví dụ 2026-03-02T09:30:00+07:00).", field="received_at"
        )
    return moment.astimezone(LOCAL_TZ)


class WorkingCalendar:
    """Working days in Vietnam, from the `holidays` package plus a per-year override table."""

    def __init__(self, overrides: Mapping[str, Any] | OverrideTable | None = None) -> None:
        years = dict(packaged_overrides().years)
        if overrides is not None:
            table = (
                overrides if isinstance(overrides, OverrideTable) else parse_overrides(overrides)
            )
            years.update(table.years)
        self.years = years
        self._off: dict[dt.date, str] = {}
        self._worked: dict[dt.date, str] = {}
        for entry in years.values():
            self._off.update({d.date: d.name for d in entry.days_off})
            self._worked.update({d.date: d.name for d in entry.working_days})

    def reason_closed(self, day: dt.date) -> str | None:
        """Why `day` is not a working day (in Vietnamese), or None when it is one."""
        if day in self._worked:
            return None
        if day in self._off:
            return self._off[day]
        package_off, package_worked = _package_year(day.year)
        if day in package_worked:
            return None
        if day.weekday() >= 5:
            return _WEEKDAY_NAMES[day.weekday()]
        return package_off.get(day)

    def is_working_day(self, day: dt.date) -> bool:
        return self.reason_closed(day) is None

    def on_or_after(self, day: dt.date) -> dt.date:
        """The first working day on or after `day`."""
        for offset in range(_MAX_SCAN_DAYS):
            candidate = day + dt.timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise CalendarInvalid(f"Không có ngày làm việc nào trong {_MAX_SCAN_DAYS} ngày từ {day}.")

    def next_after(self, day: dt.date) -> dt.date:
        """The first working day strictly after `day`."""
        return self.on_or_after(day + dt.timedelta(days=1))

    def previous_before(self, day: dt.date) -> dt.date:
        """The last working day strictly before `day`."""
        for offset in range(1, _MAX_SCAN_DAYS):
            candidate = day - dt.timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise CalendarInvalid(
            f"Không có ngày làm việc nào trong {_MAX_SCAN_DAYS} ngày trước {day}."
        )

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after `start` (n = 0: the first working day on or after it)."""
        if n < 0:
            raise ValueError("n must not be negative")
        day = self.on_or_after(start) if n == 0 else start
        for _ in range(n):
            day = self.next_after(day)
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """How many working days lie in (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        days = (end - start).days
        return sum(
            self.is_working_day(start + dt.timedelta(days=i)) for i in range(1, days + 1)
        )

    def due_date(
        self, received_at: dt.datetime, limit: TimeLimit, *, verification: bool = False
    ) -> dt.date:
        """The appointment date for a dossier complete at `received_at` under `limit`.

        Same-day procedures received on a working day before the cut-off (15:00) are due that
        day; otherwise the next working day. Others are due `working_days` working days after
        the day of receipt. `verification` adds the extension the procedure allows for it.
        """
        local = local_time(received_at)
        day = local.date()
        extra = limit.extension_working_days if verification else 0
        if limit.kind == "same_day":
            cutoff = _parse_cutoff(limit.cutoff)
            if self.is_working_day(day) and local.time() < cutoff:
                due = day
            else:
                due = self.next_after(day)
            return self.add_working_days(due, extra) if extra else due
        return self.add_working_days(day, limit.working_days + extra)


def _parse_cutoff(text: str | None) -> dt.time:
    if text is None:
        return DEFAULT_CUTOFF
    try:
        return dt.time.fromisoformat(text)
    except ValueError as exc:
        raise CalendarInvalid(f"Giờ chốt «{text}» không hợp lệ.") from exc


@functools.cache
def default_calendar() -> WorkingCalendar:
    """The calendar with the packaged override table only."""
    return WorkingCalendar()
