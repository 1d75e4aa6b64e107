"""The working-day calendar for 2024–2030, and appointment dates (2026 and 2030 tables)."""

from __future__ import annotations

import datetime as dt

import holidays
import pytest
from dossier_helpers import limit, vn
from hypothesis import given, settings
from hypothesis import strategies as st

from dossiers.calendar import WorkingCalendar, parse_overrides
from dossiers.errors import CalendarInvalid, DossierError

D = dt.date.fromisoformat


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # Tết 2026: 16–20 February off, the Friday before and Monday after are worked.
        ("2026-02-13", True),
        ("2026-02-14", False),
        ("2026-02-16", False),
        ("2026-02-17", False),
        ("2026-02-18", False),
        ("2026-02-19", False),
        ("2026-02-20", False),
        ("2026-02-23", True),
        ("2026-01-01", False),
        # Giỗ Tổ 2026 falls on Sunday 26/04: nghỉ bù Monday 27/04.
        ("2026-04-27", False),
        ("2026-04-28", True),
        ("2026-04-30", False),
        ("2026-05-01", False),
        # Quốc khánh 2026 with the 31/08 swap, worked on Saturday 22/08.
        ("2026-08-22", True),
        ("2026-08-31", False),
        ("2026-09-01", False),
        ("2026-09-02", False),
        ("2026-09-03", True),
        # Ngày Văn hóa Việt Nam (from 2026).
        ("2026-11-24", False),
        # Tết 2030 by the Vietnamese calendar: mùng 1 is Saturday 02/02 (China: 03/02).
        ("2030-01-31", False),
        ("2030-02-01", False),
        ("2030-02-04", False),
        ("2030-02-05", False),
        ("2030-02-06", False),
        ("2030-02-07", True),
        ("2030-01-30", True),
        ("2030-04-12", False),
        ("2030-09-02", False),
        ("2030-09-03", False),
        ("2030-09-04", True),
        # Earlier swaps kept in the override table.
        ("2024-04-29", False),
        ("2024-05-04", True),
        ("2025-04-26", True),
        ("2025-05-02", False),
        ("2025-01-27", False),
        ("2025-02-03", True),
    ],
)
def test_working_days_2024_to_2030(calendar: WorkingCalendar, day: str, working: bool) -> None:
    assert calendar.is_working_day(D(day)) is working


def test_closed_days_say_why_in_vietnamese(calendar: WorkingCalendar) -> None:
    assert calendar.reason_closed(D("2026-02-16")) == "Tết Nguyên Đán (Giao thừa)"
    assert calendar.reason_closed(D("2026-03-07")) == "Thứ Bảy"
    assert calendar.reason_closed(D("2026-03-08")) == "Chủ nhật"
    assert calendar.reason_closed(D("2026-03-09")) is None


def test_vietnamese_not_chinese_lunar_new_year_2030() -> None:
    from holidays.calendars.chinese import VIETNAMESE_CALENDAR, _ChineseLunisolar

    vietnam = _ChineseLunisolar(calendar=VIETNAMESE_CALENDAR).lunar_new_year_date(2030)[0]
    china = _ChineseLunisolar().lunar_new_year_date(2030)[0]
    assert (vietnam, china) == (D("2030-02-02"), D("2030-02-03"))


def test_package_base_2026_still_matches_what_the_table_assumes() -> None:
    # If a `holidays` upgrade moves a 2026 day, this fails and the override table needs a look.
    package = holidays.country_holidays("VN", years=2026)
    weekdays_off = sorted(d for d in package if d.weekday() < 5)
    assert weekdays_off == [
        D(x)
        for x in (
            "2026-01-01", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20",
            "2026-04-27", "2026-04-30", "2026-05-01", "2026-08-31", "2026-09-01", "2026-09-02",
            "2026-11-24",
        )
    ]


# received (local), procedure kind, working days, extension?, expected appointment
DUE_CASES = [
    # Same-day procedures: the 15:00 cut-off.
    ("2026-03-02 09:00", "same_day", 0, False, "2026-03-02"),
    ("2026-03-02 14:59", "same_day", 0, False, "2026-03-02"),
    ("2026-03-02 15:00", "same_day", 0, False, "2026-03-03"),
    ("2026-03-06 16:30", "same_day", 0, False, "2026-03-09"),  # Friday after 15:00 → Monday
    ("2026-02-13 14:00", "same_day", 0, False, "2026-02-13"),  # last day before Tết
    ("2026-02-13 15:30", "same_day", 0, False, "2026-02-23"),  # after cut-off, over Tết
    ("2026-02-17 10:00", "same_day", 0, False, "2026-02-23"),  # received on a Tết day
    ("2026-08-22 10:00", "same_day", 0, False, "2026-08-22"),  # make-up Saturday is worked
    ("2026-03-07 10:00", "same_day", 0, False, "2026-03-09"),  # ordinary Saturday
    ("2026-03-02 10:00", "same_day", 2, True, "2026-03-04"),   # bulky copies: +2 days
    # Working-day procedures.
    ("2026-03-02 10:00", "working_days", 3, False, "2026-03-05"),
    ("2026-03-02 16:30", "working_days", 3, False, "2026-03-05"),  # no cut-off for these
    ("2026-03-06 10:00", "working_days", 3, False, "2026-03-11"),
    ("2026-03-07 10:00", "working_days", 3, False, "2026-03-11"),  # Saturday = Friday's count
    ("2026-02-12 10:00", "working_days", 3, False, "2026-02-24"),  # across Tết 2026
    ("2026-02-11 10:00", "working_days", 5, False, "2026-02-25"),
    ("2026-02-12 10:00", "working_days", 3, True, "2026-02-27"),   # +3 for verification
    ("2026-08-20 10:00", "working_days", 3, False, "2026-08-24"),  # Fri, Sat 22/08 worked, Mon
    ("2026-08-28 10:00", "working_days", 2, False, "2026-09-04"),  # 31/08, 1–2/09 off
    ("2026-11-23 10:00", "working_days", 1, False, "2026-11-25"),  # 24/11 off
    ("2030-01-30 10:00", "working_days", 2, False, "2030-02-08"),  # across Tết 2030
    ("2030-01-31 08:00", "same_day", 0, False, "2030-02-07"),
    ("2030-02-06 10:00", "working_days", 1, False, "2030-02-07"),  # received on Tết: day 1 = 07/02
    ("2030-04-11 14:00", "working_days", 1, False, "2030-04-15"),  # Giỗ Tổ 12/04/2030
]


@pytest.mark.parametrize(("received", "kind", "days", "verification", "expected"), DUE_CASES)
def test_due_date(
    calendar: WorkingCalendar,
    received: str,
    kind: str,
    days: int,
    verification: bool,
    expected: str,
) -> None:
    extension = days if kind == "same_day" else 3
    rule = limit(kind, 0 if kind == "same_day" else days, extension if verification else 0)
    assert calendar.due_date(vn(received), rule, verification=verification) == D(expected)


def test_due_date_converts_other_zones_to_vietnam(calendar: WorkingCalendar) -> None:
    # 08:30 UTC is 15:30 in Hà Nội: after the cut-off.
    utc = dt.datetime(2026, 3, 2, 8, 30, tzinfo=dt.UTC)
    assert calendar.due_date(utc, limit("same_day", 0)) == D("2026-03-03")


def test_naive_times_are_refused(calendar: WorkingCalendar) -> None:
    with pytest.raises(DossierError, match="múi giờ"):
        calendar.due_date(dt.datetime(2026, 3, 2, 9, 0), limit("same_day", 0))


def test_administrator_table_adds_days_off_and_make_up_saturdays() -> None:
    admin = WorkingCalendar(
        {
            "years": {
                "2027": {
                    "announced": True,
                    "source": "test notice",
                    "days_off": [{"date": "2027-03-08", "name": "Ngày nghỉ thêm"}],
                    "working_days": [{"date": "2027-03-13", "name": "Làm bù"}],
                }
            }
        }
    )
    assert not admin.is_working_day(D("2027-03-08"))
    assert admin.reason_closed(D("2027-03-08")) == "Ngày nghỉ thêm"
    assert admin.is_working_day(D("2027-03-13"))
    # Friday 05/03 + 2 working days: Monday 08/03 is off, Saturday 13/03 is not reached.
    assert admin.add_working_days(D("2027-03-05"), 2) == D("2027-03-10")
    assert admin.add_working_days(D("2027-03-12"), 1) == D("2027-03-13")
    # The packaged years are still there.
    assert not admin.is_working_day(D("2026-02-16"))


def test_administrator_table_replaces_a_packaged_year() -> None:
    admin = WorkingCalendar(
        {"years": {"2026": {"announced": True, "source": "corrected", "days_off": []}}}
    )
    # 22/08/2026 is still worked by the package's own swap data, 31/08 still off.
    assert admin.is_working_day(D("2026-08-22"))
    assert not admin.is_working_day(D("2026-08-31"))


def _day(date: str) -> dict[str, str]:
    return {"date": date, "name": "x"}


def _year(**lists: object) -> dict[str, object]:
    return {"years": {"2027": {"announced": True, "source": "x", **lists}}}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (_year(days_off=[_day("2028-01-02")]), "không thuộc năm 2027"),
        (_year(days_off=[_day("2027-13-01")]), "không hợp lệ"),
        ({"years": {"2027": {"source": "x"}}}, "không hợp lệ"),
        (
            _year(days_off=[_day("2027-03-08")], working_days=[_day("2027-03-08")]),
            "vừa là ngày nghỉ",
        ),
    ],
)
def test_bad_override_tables_are_refused(table: dict[str, object], message: str) -> None:
    with pytest.raises(CalendarInvalid, match=message):
        parse_overrides(table)


def test_packaged_table_marks_unannounced_years(calendar: WorkingCalendar) -> None:
    assert calendar.years[2026].announced
    assert not calendar.years[2030].announced
    unverified = [d for d in calendar.years[2026].days_off if not d.verified]
    assert D("2026-11-24") in {d.date for d in unverified}


def test_working_days_between(calendar: WorkingCalendar) -> None:
    assert calendar.working_days_between(D("2026-02-12"), D("2026-02-24")) == 3
    assert calendar.working_days_between(D("2026-02-24"), D("2026-02-12")) == -3
    assert calendar.working_days_between(D("2026-03-02"), D("2026-03-02")) == 0


days = st.dates(min_value=D("2024-01-01"), max_value=D("2030-11-30"))


@settings(max_examples=300, deadline=None, database=None)
@given(start=days, n=st.integers(min_value=0, max_value=40))
def test_adding_working_days_lands_on_a_working_day(start: dt.date, n: int) -> None:
    from dossiers.calendar import default_calendar

    calendar = default_calendar()
    result = calendar.add_working_days(start, n)
    assert calendar.is_working_day(result)
    assert result >= start
    assert calendar.working_days_between(start, result) == max(n, 0 if result == start else 1)


@settings(max_examples=300, deadline=None, database=None)
@given(start=days, n=st.integers(min_value=0, max_value=40), k=st.integers(0, 10))
def test_adding_working_days_is_monotonic_in_n(start: dt.date, n: int, k: int) -> None:
    from dossiers.calendar import default_calendar

    calendar = default_calendar()
    assert calendar.add_working_days(start, n) <= calendar.add_working_days(start, n + k)
    if n >= 1:
        assert calendar.add_working_days(start, n) < calendar.add_working_days(start, n + 1)


@settings(max_examples=300, deadline=None, database=None)
@given(
    a=st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2030, 11, 30)),
    gap=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=20)),
    n=st.integers(min_value=0, max_value=20),
    same_day=st.booleans(),
)
def test_due_date_is_monotonic_in_the_start_time(
    a: dt.datetime, gap: dt.timedelta, n: int, same_day: bool
) -> None:
    from dossiers.calendar import LOCAL_TZ, default_calendar

    calendar = default_calendar()
    rule = limit("same_day", 0) if same_day else limit("working_days", n)
    early = a.replace(tzinfo=LOCAL_TZ)
    late = early + gap
    assert calendar.due_date(early, rule) <= calendar.due_date(late, rule)
    assert calendar.add_working_days(early.date(), n) <= calendar.add_working_days(late.date(), n)
    assert calendar.is_working_day(calendar.due_date(late, rule))


@pytest.mark.parametrize("year", range(2024, 2031))
def test_every_year_2024_to_2030_has_the_statutory_holidays(
    calendar: WorkingCalendar, year: int
) -> None:
    from holidays.calendars.chinese import VIETNAMESE_CALENDAR, _ChineseLunisolar

    lunar = _ChineseLunisolar(calendar=VIETNAMESE_CALENDAR)
    tet = lunar.lunar_new_year_date(year)[0]
    hung_kings = lunar.hung_kings_date(year)[0]
    must_close = [
        dt.date(year, 1, 1),
        *(tet + dt.timedelta(days=i) for i in range(-1, 4)),  # giao thừa to mùng 4
        hung_kings,
        dt.date(year, 4, 30),
        dt.date(year, 5, 1),
        dt.date(year, 9, 2),
    ]
    assert [d for d in must_close if calendar.is_working_day(d)] == []
    weekdays = [dt.date(year, 1, 1) + dt.timedelta(days=i) for i in range(365)]
    closed = [d for d in weekdays if d.weekday() < 5 and not calendar.is_working_day(d)]
    # 11 statutory days (+ 24/11 from 2026), some on weekends and moved to Monday.
    assert 10 <= len(closed) <= 15, closed
