"""The reports' query parameters: every bad value is refused with a message naming it."""

from __future__ import annotations

import datetime as dt

import pytest

from api.errors import InvalidInput
from api.reports import params


def test_a_range_is_inclusive_and_may_span_a_leap_year() -> None:
    found = params.date_range("2028-01-01", "2028-12-31")  # 366 days
    assert (found.start, found.end) == (dt.date(2028, 1, 1), dt.date(2028, 12, 31))
    assert params.date_range(" 2026-03-02 ", "2026-03-02").start == dt.date(2026, 3, 2)


@pytest.mark.parametrize(("start", "end", "named"), [
    (None, "2026-03-31", "«from»"),
    ("2026-03-01", "", "«to»"),
    ("2026-02-30", "2026-03-31", "«from»"),
    ("20260301", "2026-03-31", "«from»"),
    ("2026-03-01", "31/03/2026", "«to»"),
    ("2026-04-01", "2026-03-31", "«from»"),
    ("2026-01-01", "2027-01-02", "«from» đến «to» dài 367 ngày"),
    ("２０２６-03-01", "2026-03-31", "«from»"),  # full-width digits are not ISO
    ("2026-03-01T00:00", "2026-03-31", "«from»"),
])
def test_bad_ranges_name_the_parameter(start: str | None, end: str | None, named: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        params.date_range(start, end)
    assert named in caught.value.message
    assert caught.value.status == 400


def test_an_optional_range_may_be_open_but_not_reversed() -> None:
    assert params.optional_range(None, None) == (None, None)
    assert params.optional_range("2026-03-01", None) == (dt.date(2026, 3, 1), None)
    with pytest.raises(InvalidInput, match="«from»"):
        params.optional_range("2026-03-02", "2026-03-01")


@pytest.mark.parametrize("value", ["procedure", "officer", "ward", "month"])
def test_by_accepts_the_four_groupings(value: str) -> None:
    assert params.grouping(value) == value


@pytest.mark.parametrize("value", [None, "", "district", "Month"])
def test_by_refuses_anything_else(value: str | None) -> None:
    with pytest.raises(InvalidInput, match="«by»"):
        params.grouping(value)
