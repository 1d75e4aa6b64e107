"""Long-poll `_changes`: heartbeats while waiting, an answer as soon as the officer's data
changes, an empty answer at the timeout — never woken by another officer's change."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from gateway_helpers import login
from litestar.testing import TestClient

from api.services import Services


def _now(client: TestClient[Any], headers: dict[str, str]) -> str:
    return str(client.get("/sync/officer1/_changes", headers=headers).json()["last_seq"])


def test_longpoll_times_out_with_heartbeats(client: TestClient[Any],
                                            services: Services) -> None:
    headers = login(client, "officer1")
    since = _now(client, headers)
    other = dict(services.central.get("visit:officer2-001"), note_for_test=1)
    writer = threading.Timer(0.2, lambda: services.central.put(other))
    writer.start()
    started = time.monotonic()
    answer = client.get("/sync/officer1/_changes", headers=headers, params={
        "feed": "longpoll", "since": since, "timeout": "900", "heartbeat": "200"})
    elapsed = time.monotonic() - started
    writer.join()
    assert answer.status_code == 200
    assert answer.text.startswith("\n")  # heartbeats before the JSON
    assert json.loads(answer.text)["results"] == []
    assert elapsed >= 0.85


def test_longpoll_answers_when_the_officers_data_changes(client: TestClient[Any],
                                                         services: Services) -> None:
    headers = login(client, "officer1")
    since = _now(client, headers)
    mine = dict(services.central.get("visit:officer1-001"), note_for_test=1)
    writer = threading.Timer(0.3, lambda: services.central.put(mine))
    writer.start()
    started = time.monotonic()
    answer = client.get("/sync/officer1/_changes", headers=headers, params={
        "feed": "longpoll", "since": since, "timeout": "20000", "heartbeat": "5000"})
    writer.join()
    assert time.monotonic() - started < 10
    assert [r["id"] for r in json.loads(answer.text)["results"]] == ["visit:officer1-001"]
