"""`doorstep serve --demo` fills a fresh data directory with signed dossiers that the intake
worker takes in (official codes, valid signatures) and that the back office's register shows
in several states; installing the demo again adds nothing."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CHEAP_ARGON2

from api.demo import DOSSIERS, HANDLER, RECEIVED_DAYS_AGO, install_demo
from api.intake.cli import worker_for
from api.register.queries import DossierQuery
from api.services import Services, open_services
from api.settings import load_settings

EXPECTED = Counter({"received": 2, "accepted": 1, "processing": 1,
                    "supplement_requested": 1, "rejected": 1})


@pytest.fixture(params=["embedded", "couchdb"])
def demo_services(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    """A fresh demo with its district PKI, on each storage backend."""
    flags: dict[str, Any] = {"data_dir": tmp_path}
    if request.param == "couchdb":
        couch = request.getfixturevalue("pouchdb_server")
        flags.update(couchdb_url=couch.url, db_prefix=f"t{uuid.uuid4().hex[:10]}-")
    opened = open_services(load_settings(flags, env=dict(CHEAP_ARGON2)))
    started = time.monotonic()
    install_demo(opened, with_pki=True)
    opened.demo_seconds = time.monotonic() - started  # type: ignore[attr-defined]
    yield opened
    opened.close()


def _take_in(services: Services) -> Any:
    worker = worker_for(services.central, services.settings.server.data_dir,
                        services.pki_passphrase)
    assert worker is not None, "the demo has a district PKI: intake must run on it"
    while worker.run_once():
        pass
    return worker


def _dossiers(services: Services) -> list[dict[str, Any]]:
    rows = services.central.all_docs(startkey="dossier:", endkey="dossier:\ufff0",
                                     include_docs=True)["rows"]
    return [row["doc"] for row in rows]


def test_demo_dossiers_are_taken_in_and_shown_in_their_states(
        demo_services: Services) -> None:
    assert demo_services.demo_seconds < 15  # type: ignore[attr-defined]
    worker = _take_in(demo_services)
    assert worker.health.processed == len(DOSSIERS)
    assert worker.health.needs_attention == 0 and worker.health.errors == 0

    demo_services.register.catch_up()
    today = dt.date.today()
    rows = demo_services.register.search(DossierQuery(limit=100), today).rows
    assert len(rows) == len(DOSSIERS)
    assert Counter(row.status for row in rows) == EXPECTED
    received = dt.datetime.now(dt.UTC) - dt.timedelta(days=RECEIVED_DAYS_AGO)
    for row in rows:
        assert row.official_code, row.dossier_id  # the intake's receipt, not the device's code
        assert row.officer_id in {officer for officer, _, _ in DOSSIERS}
        assert row.received_at is not None
        assert abs(row.received_at - received) < dt.timedelta(days=1)
    # Each status is a filter the back office uses.
    for status, count in EXPECTED.items():
        found = demo_services.register.search(DossierQuery(status=(status,)), today).rows
        assert len(found) == count, status


def test_handler_events_follow_the_demo_dossiers_access(demo_services: Services) -> None:
    dossiers = {doc["provisional_code"]: doc for doc in _dossiers(demo_services)}
    events = demo_services.central.all_docs(startkey="event:", endkey="event:\ufff0",
                                            include_docs=True)["rows"]
    handled = [row["doc"] for row in events]
    assert len(handled) == sum(len(kinds) for _, _, kinds in DOSSIERS)
    for event in handled:
        dossier = dossiers[event["dossier"]]
        assert event["_id"] == f"event:{dossier['_id']}:{event['kind']}:1"
        assert (event["actor"], event["role"]) == (HANDLER, "handler")
        assert event["access"] == [*dossier["access"],
                                   f"queue:procedure:{dossier['procedure_code']}"]
        assert event["at"] > dossier["received_at"]


def test_installing_the_demo_again_adds_no_dossiers(demo_services: Services) -> None:
    before = {doc["_id"]: doc["_rev"] for doc in _dossiers(demo_services)}
    install_demo(demo_services, with_pki=True)
    after = {doc["_id"]: doc["_rev"] for doc in _dossiers(demo_services)}
    assert after == before and len(before) == len(DOSSIERS)
