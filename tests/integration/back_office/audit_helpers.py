"""Fixtures of the audit and visits scenarios: the demo (users, catalogue) on each storage
backend — the embedded store, and PouchDB Server standing in for CouchDB — driven
in-process through Litestar's test client."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.demo import install_demo
from api.services import Services, open_services
from api.settings import load_settings

CHEAP_ARGON2 = {"DOORSTEP_AUTH_ARGON2_MEMORY_KIB": "1024", "DOORSTEP_AUTH_ARGON2_TIME_COST": "1"}


@pytest.fixture(params=["embedded", "couchdb"])
def office(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    flags: dict[str, Any] = {"data_dir": tmp_path}
    if request.param == "couchdb":
        couch = request.getfixturevalue("pouchdb_server")
        flags.update(couchdb_url=couch.url, db_prefix=f"t{uuid.uuid4().hex[:10]}-")
    opened = open_services(load_settings(flags, env=CHEAP_ARGON2))
    install_demo(opened, visits_per_officer=0, with_pki=False)
    yield opened
    opened.close()


@pytest.fixture
def office_client(office: Services) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(office.settings, services=office)) as test_client:
        yield test_client


def citizen() -> dict[str, Any]:
    import msgspec

    from dossiers.examples import _example_data

    data: dict[str, Any] = msgspec.to_builtins(_example_data().citizen)
    return data


def new_visit(officer: str = "officer1", **changes: Any) -> dict[str, Any]:
    """A valid POST /api/visits body, planned for tomorrow (local day) unless changed."""
    import datetime as dt

    from dossiers.calendar import local_time

    tomorrow = local_time(dt.datetime.now(dt.UTC)).date() + dt.timedelta(days=1)
    return {"citizen": citizen(), "procedures": ["1.001776"],
            "priority_group": "nguoi_cao_tuoi", "officer_id": officer,
            "planned_date": tomorrow.isoformat(), "ward": "00004", **changes}
