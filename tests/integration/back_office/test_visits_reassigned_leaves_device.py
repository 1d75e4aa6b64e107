"""A visit reassigned through the API moves through the real sync gateway, on both storage
backends: the new officer's device is served it, the old officer's feed and reads no
longer show it and it is on the old officer's purge list; the audit log has each act."""

from __future__ import annotations

from typing import Any

import audit_helpers
from audit_helpers import new_visit
from auth_helpers import login
from litestar.testing import TestClient

from api.audit import parse_query
from api.services import Services

office = audit_helpers.office
office_client = audit_helpers.office_client


def _feed(client: TestClient[Any], user: str, headers: dict[str, str],
          since: Any = 0) -> tuple[dict[str, Any], Any]:
    answer = client.get(f"/sync/{user}/_changes", params={"since": since, "include_docs": "true"},
                        headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return {row["id"]: row.get("doc") for row in body["results"]}, body["last_seq"]


def test_reassigned_visit_moves_to_the_new_officers_device(
        office: Services, office_client: TestClient[Any]) -> None:
    handler = login(office_client, "handler1")
    one, two = login(office_client, "officer1"), login(office_client, "officer2")
    created = office_client.post("/api/visits", json=new_visit("officer1"), headers=handler)
    assert created.status_code == 201, created.text
    doc_id = f"visit:{created.json()['id']}"

    feed_one, seq_one = _feed(office_client, "officer1", one)
    assert feed_one[doc_id]["officer_id"] == "officer1"
    assert doc_id not in _feed(office_client, "officer2", two)[0]
    _, seq_two = _feed(office_client, "officer2", two)

    moved = office_client.post(f"/api/visits/{created.json()['id']}/assign",
                               json={"officer_id": "officer2"}, headers=handler)
    assert moved.status_code == 200, moved.text
    assert moved.json()["officer_id"] == "officer2" and moved.json()["ward"] == "00004"
    assert office.central.get(doc_id)["access"] == ["officer:officer2", "ward:00004"]

    # The new officer's next sync brings it, with its new owner.
    new_rows, _ = _feed(office_client, "officer2", two, seq_two)
    assert new_rows[doc_id]["officer_id"] == "officer2"
    assert office_client.get(f"/sync/officer2/{doc_id}", headers=two).status_code == 200
    # The old officer's next sync: not in the feed, not readable, on the purge list.
    assert doc_id not in _feed(office_client, "officer1", one, seq_one)[0]
    assert doc_id not in _feed(office_client, "officer1", one)[0]
    assert office_client.get(f"/sync/officer1/{doc_id}", headers=one).status_code == 404
    purge = office_client.get("/sync/officer1/_local/doorstep-purge", headers=one)
    assert purge.status_code == 200 and doc_id in purge.json()["ids"]
    purge_two = office_client.get("/sync/officer2/_local/doorstep-purge", headers=two).json()
    assert doc_id not in purge_two.get("ids", [])

    # Assigning it to the officer who already has it changes nothing.
    rev = office.central.get(doc_id)["_rev"]
    again = office_client.post(f"/api/visits/{created.json()['id']}/assign",
                               json={"officer_id": "officer2"}, headers=handler)
    assert again.status_code == 200 and office.central.get(doc_id)["_rev"] == rev
    refused = office_client.post(f"/api/visits/{created.json()['id']}/assign",
                                 json={"officer_id": "supervisor1"}, headers=handler)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "officer_id"

    acts = office.audit.query(parse_query({"dossier": doc_id})).items
    assert [(a.action, a.detail) for a in acts] == [
        ("visit.create", "officer=officer1 ward=00004"),
        ("visit.assign", "officer officer1 -> officer2")]
