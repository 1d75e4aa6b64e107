"""The register as a follower of the central changes feed, on both backends: cursor pages
walk every row exactly once while dossiers keep arriving; a restart resumes from the
checkpoint stored in the register's file (reading only the changes after it); events and
outcomes that arrive before their dossier are kept and used; the follower thread picks up
writes by itself."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import register_helpers
from conftest import back_office_settings
from litestar.testing import TestClient
from register_helpers import LOCAL_TZ, Spec

from api.services import Services, _open_register, _open_storage, open_services
from dossiers.validation import search_key

START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=LOCAL_TZ)


def _walk(client: TestClient[Any], headers: dict[str, str], limit: int,
          between_pages: Callable[[int], None] = lambda page: None) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    page = 0
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        answer = client.get("/api/dossiers", params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert len(body["items"]) <= limit
        seen.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
        page += 1
        between_pages(page)


def test_cursor_pages_see_every_row_once_while_dossiers_arrive(
        back_office: Services, back_office_client: TestClient[Any],
        synced: Callable[[Sequence[Spec]], None],
        logins: Callable[[str], dict[str, str]]) -> None:
    synced(list(register_helpers.many(60, START, device="PAGE01")))
    headers = logins("handler1")

    def arrive(page: int) -> None:
        if page == 2:  # ten more, with due dates before and after the cursor's
            synced(list(register_helpers.many(10, START, device="LATE01")))

    walked = _walk(back_office_client, headers, 7, arrive)
    walked_ids = [r["dossier_id"] for r in walked]
    assert len(walked_ids) == len(set(walked_ids)), "a row was shown twice"
    originals = {f"dossier:PAGE01-{n:06d}" for n in range(60)}
    assert originals <= set(walked_ids), "a row that existed throughout was skipped"
    keys = [(r["due_date"] or "9999-12-31", r["dossier_id"]) for r in walked]
    assert keys == sorted(keys)
    again = [r["dossier_id"] for r in _walk(back_office_client, headers, 50)]
    assert len(again) == 70 and set(again) == originals | {
        f"dossier:LATE01-{n:06d}" for n in range(10)}


class CountingCentral:
    """The central database, counting the changes the register reads from it."""

    def __init__(self, central: Any) -> None:
        self.central = central
        self.read = 0

    def changes(self, **options: Any) -> dict[str, Any]:
        feed: dict[str, Any] = self.central.changes(**options)
        self.read += len(feed["results"])
        return feed

    def __getattr__(self, name: str) -> Any:
        return getattr(self.central, name)


@pytest.mark.parametrize("backend", ["embedded", "couchdb"])
def test_restart_resumes_from_the_stored_checkpoint(
        request: pytest.FixtureRequest, tmp_path: Path, backend: str) -> None:
    settings = back_office_settings(request, tmp_path / "data", backend)
    first = open_services(settings)
    register_helpers.store(first.central, list(register_helpers.many(20, START)))
    first.register.catch_up()
    built = first.register.count()
    assert built == 20
    first.register.stop()  # down: the next documents arrive while nobody follows
    late = list(register_helpers.many(5, START, device="LATE01"))
    register_helpers.store(first.central, late)
    first.close()

    storage = _open_storage(settings)
    central = CountingCentral(storage.open(settings.server.db_prefix + "doorstep"))
    register = _open_register(settings, central)
    try:
        assert register.count() == built  # the rows survived the restart
        register.catch_up()
        # Only the documents written while it was down were read again.
        assert central.read == sum(len(list(register_helpers.documents(s))) for s in late)
        assert register.count() == 25
        assert register.row("dossier:LATE01-000004") is not None
    finally:
        register.close()
        close = getattr(storage, "close", None)
        if close is not None:
            close()


def test_events_and_outcomes_may_arrive_before_their_dossier(
        back_office: Services, synced: Callable[[Sequence[Spec]], None]) -> None:
    spec = Spec(n=31, received_at=START, name="Huỳnh Minh Khánh", events=[
        ("accepted", START + dt.timedelta(hours=2), {}),
        ("processing", START + dt.timedelta(hours=3), {})])
    docs = list(register_helpers.documents(spec))
    dossier, others = docs[0], docs[1:]
    register = back_office.register
    for doc in others:  # the events and the outcome first
        back_office.central.put(doc)
    register.catch_up()
    assert register.row(spec.dossier_id) is None
    assert register.dossier_id_for(spec.code) is None
    back_office.central.put(dossier)
    register.catch_up()
    row = register.row(spec.dossier_id)
    assert row is not None and row.status == "processing"
    assert row.official_code is not None
    assert [e.kind for e in register.events(spec.dossier_id)] == [
        "received", "accepted", "processing"]
    state = register.state(spec.dossier_id)
    assert state is not None and state.accepted
    assert register.policy(spec.dossier_id) is not None
    assert register.dossier_id_for(spec.code) == spec.dossier_id


def test_the_follower_picks_up_writes_by_itself(back_office: Services) -> None:
    spec = Spec(n=41, received_at=START, name="Phan Ngọc Yến")
    register_helpers.store(back_office.central, [spec])  # no catch_up: the thread must see it
    deadline = time.monotonic() + 15
    while back_office.register.row(spec.dossier_id) is None:
        assert time.monotonic() < deadline, "the follower did not index the new dossier"
        time.sleep(0.05)
    row = back_office.register.row(spec.dossier_id)
    assert row is not None and search_key(row.applicant_name) == "phan ngoc yen"
    # A later event changes the row too.
    event = register_helpers.event_doc(spec, "accepted", START + dt.timedelta(hours=1), {})
    back_office.central.put(event)
    while (found := back_office.register.row(spec.dossier_id)) is None \
            or found.status != "accepted":
        assert time.monotonic() < deadline, "the follower did not apply the new event"
        time.sleep(0.05)


def test_a_deleted_dossier_leaves_the_register(
        back_office: Services, synced: Callable[[Sequence[Spec]], None]) -> None:
    spec = Spec(n=51, received_at=START, name="Bùi Thị Vân")
    synced([spec])
    register = back_office.register
    assert register.row(spec.dossier_id) is not None
    rev = back_office.central.get(spec.dossier_id)["_rev"]
    back_office.central.delete(spec.dossier_id, rev)
    register.catch_up()
    assert register.row(spec.dossier_id) is None
    assert register.docs(spec.dossier_id) is None
    assert spec.dossier_id not in {r.dossier_id for r in register.rows(None, None, START.date())}
