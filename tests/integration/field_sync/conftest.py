"""A real `doorstep serve` per test, on each storage backend (PouchDB Server stands in for
CouchDB; COUCHDB_URL points it at a real one)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from field_sync_helpers import Server, running_server


@pytest.fixture(scope="session", params=["embedded", "couchdb"])
def server(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server per backend for these tests: each uses its own device and documents."""
    couch = request.getfixturevalue("pouchdb_server").url if request.param == "couchdb" else None
    with running_server(tmp_path_factory.mktemp(request.param), couch) as running:
        yield running
