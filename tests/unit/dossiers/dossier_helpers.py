"""Helpers for the domain tests (a uniquely named module, imported by the test files)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from dossiers.calendar import LOCAL_TZ
from dossiers.catalogue import TimeLimit
from dossiers.models import Event

EventFactory = Callable[..., Event]


def vn(text: str) -> dt.datetime:
    """A local Vietnamese time from 'YYYY-MM-DD HH:MM'."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ)


def limit(kind: str = "working_days", days: int = 3, extension: int = 0) -> TimeLimit:
    return TimeLimit(
        kind=kind,  # type: ignore[arg-type]
        working_days=days,
        cutoff="15:00" if kind == "same_day" else None,
        extension_working_days=extension,
        extension_when="cần xác minh" if extension else None,
        verified=True,
        source="test",
    )
