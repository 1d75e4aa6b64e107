"""Isolation: an officer sees and writes only their own data, whatever the endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from gateway_helpers import dossier_doc, event_doc, login
from litestar.testing import TestClient

from api.services import Services


def _ids(client: TestClient[Any], user: str, headers: dict[str, str], since: Any = 0) -> set[str]:
    answer = client.get(f"/sync/{user}/_changes", params={"since": since}, headers=headers)
    assert answer.status_code == 200, answer.text
    return {row["id"] for row in answer.json()["results"]}


def test_officer_feed_holds_only_own_visits_and_reference(client: TestClient[Any]) -> None:
    one = _ids(client, "officer1", login(client, "officer1"))
    assert {i for i in one if i.startswith("visit:")} == {
        "visit:officer1-001", "visit:officer1-002", "visit:officer1-003"}
    assert {"reference:catalogue", "reference:calendar-overrides"} <= one
    assert not any("officer2" in i or "officer3" in i for i in one)


ENDPOINTS = [
    ("GET", "", None),
    ("HEAD", "", None),
    ("GET", "/_changes", None),
    ("POST", "/_revs_diff", {"visit:officer2-001": ["1-abc"]}),
    ("POST", "/_bulk_get", {"docs": [{"id": "visit:officer2-001"}]}),
    ("POST", "/_bulk_docs", {"docs": [], "new_edits": False}),
    ("GET", "/visit:officer2-001", None),
    ("PUT", "/_local/checkpoint", {"last_seq": "1"}),
    ("GET", "/_local/checkpoint", None),
    ("POST", "/_ensure_full_commit", {}),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_every_endpoint_answers_401_403_by_caller(
    client: TestClient[Any], method: str, path: str, body: Any
) -> None:
    def call(user: str, headers: dict[str, str]) -> int:
        return client.request(method, f"/sync/{user}{path}", json=body, headers=headers).status_code

    officer1 = login(client, "officer1")
    assert call("officer2", officer1) == 403  # someone else's database
    assert call("officer2", {}) == 401  # no token
    assert call("officer2", {"Authorization": "Bearer not-a-jwt"}) == 401
    for role_user in ("handler1", "supervisor1", "admin"):
        assert call(role_user, login(client, role_user)) == 403  # not an officer's device


def test_foreign_documents_read_as_missing(client: TestClient[Any], services: Services) -> None:
    headers = login(client, "officer1")
    foreign = services.central.get("visit:officer2-001")
    assert client.get("/sync/officer1/visit:officer2-001", headers=headers).status_code == 404
    got = client.get("/sync/officer1/visit:officer2-001",
                     params={"open_revs": "all"}, headers=headers)
    assert got.status_code == 404
    bulk = client.post("/sync/officer1/_bulk_get", headers=headers,
                       json={"docs": [{"id": "visit:officer2-001", "rev": foreign["_rev"]},
                                      {"id": "visit:officer1-001"}]}).json()["results"]
    assert bulk[0]["docs"][0]["error"]["error"] == "not_found"
    assert bulk[1]["docs"][0]["ok"]["officer_id"] == "officer1"
    diff = client.post("/sync/officer1/_revs_diff", headers=headers,
                       json={"visit:officer2-001": [foreign["_rev"]]}).json()
    # Says nothing about what the server holds: the stored rev is reported missing.
    assert diff == {"visit:officer2-001": {"missing": [foreign["_rev"]]}}


def test_officer_cannot_write_another_officers_data(
    client: TestClient[Any], services: Services
) -> None:
    headers = login(client, "officer1")
    before = services.central.info()["update_seq"]
    theirs = dossier_doc("officer2")
    mine_claiming_theirs = dossier_doc("officer1")
    mine_claiming_theirs["access"] = ["officer:officer1", "officer:officer2"]
    over_visit = dict(services.central.get("visit:officer2-001"))
    answer = client.post("/sync/officer1/_bulk_docs", headers=headers, json={
        "docs": [theirs, mine_claiming_theirs, event_doc("officer2", "x"), over_visit]})
    assert answer.status_code == 201
    rows = answer.json()
    assert [r["error"] for r in rows] == ["forbidden"] * 4
    assert "officer2" in rows[0]["reason"]
    assert services.central.info()["update_seq"] == before


def test_reassigned_visit_leaves_the_first_officers_feed(
    client: TestClient[Any], services: Services
) -> None:
    one, two = login(client, "officer1"), login(client, "officer2")
    first = client.get("/sync/officer1/_changes", headers=one).json()
    visit = dict(services.central.get("visit:officer1-002"))
    visit["access"] = ["officer:officer2", "ward:00004"]
    visit["officer_id"] = "officer2"
    services.central.put(visit)  # the back office reassigns it, outside the gateway
    services.follower.catch_up()
    assert _ids(client, "officer1", one, first["last_seq"]) == set()
    assert "visit:officer1-002" not in _ids(client, "officer1", one)
    assert client.get("/sync/officer1/visit:officer1-002", headers=one).status_code == 404
    purge = client.get("/sync/officer1/_local/doorstep-purge", headers=one).json()
    assert purge["ids"] == ["visit:officer1-002"]
    assert "visit:officer1-002" in _ids(client, "officer2", two)


def test_checkpoints_live_in_each_officers_namespace(client: TestClient[Any]) -> None:
    one, two = login(client, "officer1"), login(client, "officer2")
    put = client.put("/sync/officer1/_local/ckpt", json={"last_seq": "5-x"}, headers=one)
    assert put.status_code == 201, put.text
    assert client.get("/sync/officer1/_local/ckpt", headers=one).json()["last_seq"] == "5-x"
    assert client.get("/sync/officer2/_local/ckpt", headers=two).status_code == 404


def test_since_token_of_another_officer_is_refused(client: TestClient[Any]) -> None:
    one, two = login(client, "officer1"), login(client, "officer2")
    token = client.get("/sync/officer1/_changes", headers=one).json()["last_seq"]
    answer = client.get("/sync/officer2/_changes", params={"since": token}, headers=two)
    assert answer.status_code == 400
    assert answer.json()["error"] == "bad_request"


def test_revoked_device_is_refused_and_told_to_wipe(
    client: TestClient[Any], services: Services
) -> None:
    token = client.post("/api/auth/token", json={
        "username": "officer1", "password": "demo", "device_id": "lost-phone"}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.get("/sync/officer1", headers=headers).status_code == 200
    admin = login(client, "admin")
    assert client.post("/api/admin/devices/lost-phone/revoke", headers=admin).status_code == 200
    answer = client.get("/sync/officer1/_changes", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["wipe"] is True
    refresh = client.post("/api/auth/refresh", json={
        "refresh_token": token["refresh_token"], "device_id": "lost-phone"})
    assert refresh.status_code == 401 and refresh.json()["wipe"] is True
    again = client.post("/api/auth/token", json={
        "username": "officer1", "password": "demo", "device_id": "lost-phone"})
    assert again.status_code == 401 and again.json()["wipe"] is True


def test_disabled_user_cannot_sync_or_refresh(client: TestClient[Any]) -> None:
    token = client.post("/api/auth/token", json={
        "username": "officer3", "password": "demo", "device_id": "phone-3"}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    admin = login(client, "admin")
    assert client.post("/api/admin/users/officer3/disable", headers=admin).status_code == 200
    answer = client.get("/sync/officer3", headers=headers)
    assert answer.status_code == 401 and answer.json()["wipe"] is True
    refresh = client.post("/api/auth/refresh", json={
        "refresh_token": token["refresh_token"], "device_id": "phone-3"})
    assert refresh.status_code == 401 and refresh.json()["wipe"] is True
