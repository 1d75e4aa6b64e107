"""The shapes the reports answer with: frozen msgspec Structs, the same for JSON and for tests.

A rate is an exact fraction (`numerator` / `denominator`) with a percentage for display,
rounded half-up to two decimals (the way Vietnamese statistics tables round); an average is
the exact total and count with its value rounded the same way. An empty denominator gives
`None`, never a made-up zero.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

Grouping = Literal["procedure", "officer", "ward", "month"]
GROUPINGS: tuple[Grouping, ...] = ("procedure", "officer", "ward", "month")


class Rate(msgspec.Struct, frozen=True, kw_only=True):
    numerator: int
    denominator: int
    percent: float | None  # 100·n/d rounded half-up to 0.01; None when d = 0


class Average(msgspec.Struct, frozen=True, kw_only=True):
    total: int
    count: int
    value: float | None  # total/count rounded half-up to 0.01; None when count = 0


class TimelinessLine(msgspec.Struct, frozen=True, kw_only=True):
    """Dossiers of one group by the national portal's rule (index 766), as of `as_of`.

    `early`, `on_time`, `late` count finished dossiers (processing ended); `overdue` counts
    unfinished ones already late (past the appointment, or a second supplement request);
    `pending` the unfinished ones not late yet. `dossiers` is the sum of the five; the rates
    are fractions of the finished dossiers.
    """

    key: str
    label: str
    dossiers: int
    early: int
    on_time: int
    late: int
    overdue: int
    pending: int
    finished: int
    early_rate: Rate
    on_time_rate: Rate
    late_rate: Rate
    timely_rate: Rate  # early or on time


class VolumeLine(msgspec.Struct, frozen=True, kw_only=True):
    """How many dossiers of one group arrived, and where they are now.

    `received` = `finished` + `in_progress` + `needs_attention` + `awaiting_intake`.
    """

    key: str
    label: str
    received: int
    finished: int
    in_progress: int
    needs_attention: int
    awaiting_intake: int


class ResolutionLine(msgspec.Struct, frozen=True, kw_only=True):
    """Working days from receipt to the end of processing, over the resolved dossiers."""

    key: str
    label: str
    resolved: int
    average_working_days: Average
    min_working_days: int | None
    max_working_days: int | None


class _Report(msgspec.Struct, frozen=True, kw_only=True):
    by: Grouping
    received_from: dt.date
    received_to: dt.date
    as_of: dt.date


class TimelinessReport(_Report, frozen=True, kw_only=True):
    lines: list[TimelinessLine]
    total: TimelinessLine


class VolumeReport(_Report, frozen=True, kw_only=True):
    lines: list[VolumeLine]
    total: VolumeLine


class ResolutionReport(_Report, frozen=True, kw_only=True):
    lines: list[ResolutionLine]
    total: ResolutionLine


class OverdueItem(msgspec.Struct, frozen=True, kw_only=True):
    dossier_id: str
    official_code: str | None
    provisional_code: str
    procedure_code: str
    procedure_name: str
    officer_id: str
    officer_name: str
    ward: str | None
    applicant_name: str
    status: str
    status_label: str
    received_at: dt.datetime | None
    due_date: dt.date
    extended: bool
    working_days_overdue: int


class OverdueReport(msgspec.Struct, frozen=True, kw_only=True):
    as_of: dt.date
    received_from: dt.date | None
    received_to: dt.date | None
    count: int
    items: list[OverdueItem]
