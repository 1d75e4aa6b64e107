"""The back office's shared fixtures: the demo server (users, catalogue; no PKI) on each
storage backend — the embedded store, and PouchDB Server standing in for CouchDB
(COUCHDB_URL points it at a real CouchDB) — driven in-process through Litestar's test
client, with logins for the demo users and a quick way to store synced dossiers.

Fixtures: `back_office` (Services), `back_office_client` (TestClient), `logins`
(username -> Authorization headers, for handler1, supervisor1, admin, officer1, ...),
`synced` (store `register_helpers.Spec`s in the central database as intake would leave
them, then bring the register up to date).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import auth_helpers
import pytest
import register_helpers
from litestar.testing import TestClient

from api.app import create_app
from api.demo import install_demo
from api.services import Services, open_services
from api.settings import load_settings

# Cheap hashing: the tests log in many times; argon2's cost is not what they test.
CHEAP_ARGON2 = {"DOORSTEP_AUTH_ARGON2_MEMORY_KIB": "1024", "DOORSTEP_AUTH_ARGON2_TIME_COST": "1"}


def back_office_settings(request: pytest.FixtureRequest, data_dir: Path,
                         backend: str) -> Any:
    flags: dict[str, Any] = {"data_dir": data_dir}
    if backend == "couchdb":
        couch = request.getfixturevalue("pouchdb_server")
        flags.update(couchdb_url=couch.url, db_prefix=f"t{uuid.uuid4().hex[:10]}-")
    return load_settings(flags, env=CHEAP_ARGON2)


@pytest.fixture(params=["embedded", "couchdb"])
def back_office(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    opened = open_services(back_office_settings(request, tmp_path / "data", request.param))
    install_demo(opened, visits_per_officer=0, with_pki=False)
    yield opened
    opened.close()


@pytest.fixture
def back_office_client(back_office: Services) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(back_office.settings, services=back_office)) as client:
        yield client


@pytest.fixture
def logins(back_office_client: TestClient[Any]) -> Callable[[str], dict[str, str]]:
    """Authorization headers of a demo user (password "demo"), one login per user."""
    tokens: dict[str, dict[str, str]] = {}

    def login(username: str) -> dict[str, str]:
        if username not in tokens:
            tokens[username] = auth_helpers.login(back_office_client, username)
        return tokens[username]

    return login


@pytest.fixture
def synced(back_office: Services) -> Callable[[Sequence[register_helpers.Spec]], None]:
    """Store dossiers (with their intake outcome and events) and catch the register up."""

    def store(specs: Sequence[register_helpers.Spec]) -> None:
        register_helpers.store(back_office.central, specs)
        back_office.register.catch_up()

    return store
