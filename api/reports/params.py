"""The reports' query parameters, checked before any data is read.

Each check raises `api.errors.InvalidInput` (400 problem details) with a Vietnamese message
naming the parameter as it is spelled in the URL (`from`, `to`, `by`), so a caller knows
what to fix. Dates are ISO calendar dates (YYYY-MM-DD), read as days in Asia/Ho_Chi_Minh;
a range runs from `from` to `to` inclusive and spans at most `MAX_RANGE_DAYS` days, which
bounds the work one request may ask of the server.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from api.errors import InvalidInput
from api.reports.schemas import GROUPINGS, Grouping

MAX_RANGE_DAYS = 366
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class DateRange:
    start: dt.date
    end: dt.date


def parse_date(name: str, text: str | None) -> dt.date | None:
    """The date in parameter `name`, or None when it is absent or empty."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"Tham số «{name}» phải là một ngày dạng YYYY-MM-DD (nhận được «{text}»)."
        ) from None


def date_range(from_text: str | None, to_text: str | None) -> DateRange:
    """A required range `from`..`to`, inclusive, at most `MAX_RANGE_DAYS` days."""
    start, end = parse_date("from", from_text), parse_date("to", to_text)
    if start is None:
        raise InvalidInput("Thiếu tham số «from» (ngày bắt đầu, dạng YYYY-MM-DD).")
    if end is None:
        raise InvalidInput("Thiếu tham số «to» (ngày kết thúc, dạng YYYY-MM-DD).")
    return _checked(start, end)


def optional_range(from_text: str | None, to_text: str | None) -> tuple[dt.date | None,
                                                                         dt.date | None]:
    """An open or half-open range; when both ends are given they obey `date_range`'s rules."""
    start, end = parse_date("from", from_text), parse_date("to", to_text)
    if start is not None and end is not None:
        _checked(start, end)
    return start, end


def _checked(start: dt.date, end: dt.date) -> DateRange:
    if start > end:
        raise InvalidInput(
            f"Tham số «from» ({start:%d/%m/%Y}) không được sau tham số «to» ({end:%d/%m/%Y})."
        )
    days = (end - start).days + 1
    if days > MAX_RANGE_DAYS:
        raise InvalidInput(
            f"Khoảng từ «from» đến «to» dài {days} ngày; tối đa {MAX_RANGE_DAYS} ngày."
        )
    return DateRange(start, end)


def grouping(text: str | None) -> Grouping:
    """The `by` parameter: procedure, officer, ward or month."""
    choices = ", ".join(GROUPINGS)
    if text is None or not text.strip():
        raise InvalidInput(f"Thiếu tham số «by» (một trong: {choices}).")
    value = text.strip()
    if value not in GROUPINGS:
        raise InvalidInput(f"Tham số «by» phải là một trong: {choices} (nhận được «{value}»).")
    return value
