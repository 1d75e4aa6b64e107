"""Fixtures for the domain tests: the catalogue, the calendar, a policy, an event factory."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from dossier_helpers import EventFactory, limit, vn

from dossiers.calendar import WorkingCalendar, default_calendar
from dossiers.catalogue import Catalogue, load_catalogue
from dossiers.deadlines import DeadlinePolicy
from dossiers.models import Event


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="session")
def calendar() -> WorkingCalendar:
    return default_calendar()


@pytest.fixture
def policy(calendar: WorkingCalendar) -> DeadlinePolicy:
    return DeadlinePolicy(calendar, limit("working_days", 3))


@pytest.fixture
def event() -> EventFactory:
    counter = itertools.count(1)

    def make(kind: str, at: str, role: str = "handler", **extra: Any) -> Event:
        return Event(
            access=("officer:o1",),
            id=f"ev{next(counter):03d}",
            dossier="TT-D1-000001",
            kind=kind,  # type: ignore[arg-type]
            at=vn(at),
            actor=f"{role}-1",
            role=role,  # type: ignore[arg-type]
            **extra,
        )

    return make
