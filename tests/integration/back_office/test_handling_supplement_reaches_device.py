"""A supplement request written by a handler carries the dossier's access, so the sync
gateway serves it to the dossier's officer at the next sync (and to no other officer);
the sealed result reaches the same device the same way."""

from __future__ import annotations

from typing import Any

import handling_helpers
from auth_helpers import login
from handling_helpers import (
    post_event,
    result_pdf,
    store_received,
    upload_result,
)
from litestar.testing import TestClient

from api.services import Services

# The scenario's fixtures (a demo with its district PKI and seal), by name.
client = handling_helpers.client
office = handling_helpers.office


def _feed(client: TestClient[Any], officer: str) -> dict[str, Any]:
    headers = login(client, officer)
    answer = client.get(f"/sync/{officer}/_changes", params={"include_docs": "true"},
                        headers=headers)
    assert answer.status_code == 200, answer.text
    return {row["id"]: row.get("doc") for row in answer.json()["results"]}


def test_the_supplement_request_reaches_the_officers_device(client: TestClient[Any],
                                                            office: Services) -> None:
    stored = store_received(office.central, 1, officer="officer1")
    handler = login(client, "handler1")
    assert post_event(client, handler, stored.dossier_id, "accepted").status_code == 201
    missing = ["Bản sao sổ hộ khẩu", "Giấy xác nhận khuyết tật"]
    asked = post_event(client, handler, stored.dossier_id, "supplement_requested",
                       missing=missing)
    assert asked.status_code == 201, asked.text
    event_id = asked.json()["event_id"]
    office.follower.catch_up()
    feed = _feed(client, "officer1")
    assert event_id in feed
    doc = feed[event_id]
    assert doc["kind"] == "supplement_requested" and doc["missing"] == missing
    assert doc["dossier"] == stored.provisional_code
    assert event_id not in _feed(client, "officer2")


def test_the_sealed_result_reaches_the_officers_device(client: TestClient[Any],
                                                       office: Services) -> None:
    stored = store_received(office.central, 2, officer="officer1")
    handler = login(client, "handler1")
    for kind in ("accepted", "processing", "resolved"):
        assert post_event(client, handler, stored.dossier_id, kind).status_code == 201
    assert upload_result(client, handler, stored.dossier_id, result_pdf()).status_code == 201
    office.follower.catch_up()
    feed = _feed(client, "officer1")
    result_id = f"result:{stored.dossier_id}"
    assert result_id in feed and "result.pdf" in feed[result_id]["_attachments"]
    assert result_id not in _feed(client, "officer2")
