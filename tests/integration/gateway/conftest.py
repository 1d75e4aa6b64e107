"""The gateway's scenario fixtures: a demo server on a temporary embedded store, driven
in-process through Litestar's test client (httpx over ASGI), or as a real `doorstep serve`
process on a free port for devices that speak HTTP (PouchDB, our replicator)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gateway_helpers import RunningServer
from litestar.testing import TestClient
from support.serve import serving

from api.app import create_app
from api.demo import install_demo
from api.services import Services, open_services
from api.settings import load_settings

ROOT = Path(__file__).resolve().parents[3]
# Cheap hashing: the tests log in hundreds of times; argon2's cost is not what they test.
CHEAP_ARGON2 = {"DOORSTEP_AUTH_ARGON2_MEMORY_KIB": "1024", "DOORSTEP_AUTH_ARGON2_TIME_COST": "1"}


@pytest.fixture(params=["embedded", "couchdb"])
def services(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    """The demo on each storage backend: the embedded store, and PouchDB Server standing
    in for CouchDB (COUCHDB_URL points it at a real CouchDB)."""
    flags: dict[str, Any] = {"data_dir": tmp_path}
    if request.param == "couchdb":
        couch = request.getfixturevalue("pouchdb_server")
        flags.update(couchdb_url=couch.url, db_prefix=f"t{uuid.uuid4().hex[:10]}-")
    settings = load_settings(flags, env={
        "DOORSTEP_SYNC_MAX_ATTACHMENT_BYTES": str(256 * 1024),
        "DOORSTEP_SYNC_MAX_REQUEST_BYTES": str(2 * 1024 * 1024),
        "DOORSTEP_SYNC_MAX_DOCUMENT_BYTES": str(1024 * 1024),
        **CHEAP_ARGON2,
    })
    opened = open_services(settings)
    install_demo(opened, with_pki=False)
    yield opened
    opened.close()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(services.settings, services=services)) as test_client:
        yield test_client


@pytest.fixture(params=["embedded", "couchdb"])
def demo_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningServer]:
    env = {**os.environ, **CHEAP_ARGON2}
    storage: list[str] = []
    central_url = None
    if request.param == "couchdb":
        couch = request.getfixturevalue("pouchdb_server")
        prefix = f"t{uuid.uuid4().hex[:10]}-"
        storage = ["--couchdb", couch.url]
        env["DOORSTEP_DB_PREFIX"] = prefix
        central_url = f"{couch.url}/{prefix}doorstep"
    with serving(["--demo", "--data", str(tmp_path / "data"), *storage], env=env,
                 log=tmp_path / "server.log", cwd=ROOT) as running:
        yield RunningServer(running.url, tmp_path / "data", central_url)
