"""Identity and the server's own endpoints: login, lockout, refresh bound to a device,
/health, /metrics, OpenAPI and problem details."""

from __future__ import annotations

import unicodedata
from typing import Any

from gateway_helpers import login
from litestar.testing import TestClient

from api.services import Services


def _token(client: TestClient[Any], user: str, password: str, device: str = "d1") -> Any:
    return client.post("/api/auth/token", json={
        "username": user, "password": password, "device_id": device})


def test_login_answers_tokens_and_me(client: TestClient[Any]) -> None:
    answer = _token(client, "officer1", "demo")
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) >= {"access_token", "refresh_token", "expires_in"}
    assert body["expires_in"] == 900
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["principals"] == ["officer:officer1", "reference"]


def test_wrong_password_is_a_problem_in_vietnamese(client: TestClient[Any]) -> None:
    answer = _token(client, "officer1", "wrong")
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["status"] == 401 and "mật khẩu" in problem["detail"]
    assert _token(client, "nobody", "demo").json()["detail"] == problem["detail"]


def test_failed_logins_lock_the_account(client: TestClient[Any], services: Services) -> None:
    limit = services.settings.auth.max_failed_logins
    statuses = [_token(client, "officer2", "wrong").status_code for _ in range(limit)]
    assert statuses == [401] * (limit - 1) + [429]
    locked = _token(client, "officer2", "demo")  # even the right password, while locked
    assert locked.status_code == 429
    detail = locked.json()["detail"]
    assert "khoá" in detail and unicodedata.is_normalized("NFC", detail)
    assert _token(client, "officer1", "demo").status_code == 200  # others unaffected


def test_refresh_is_bound_to_the_device_and_used_once(client: TestClient[Any]) -> None:
    first = _token(client, "officer1", "demo", "phone-a").json()
    other_device = client.post("/api/auth/refresh", json={
        "refresh_token": first["refresh_token"], "device_id": "phone-b"})
    assert other_device.status_code == 401
    fresh = client.post("/api/auth/refresh", json={
        "refresh_token": first["refresh_token"], "device_id": "phone-a"})
    assert fresh.status_code == 200 and fresh.json()["refresh_token"] != first["refresh_token"]
    replay = client.post("/api/auth/refresh", json={
        "refresh_token": first["refresh_token"], "device_id": "phone-a"})
    assert replay.status_code == 401


def test_device_of_one_officer_cannot_log_in_as_another(client: TestClient[Any]) -> None:
    assert _token(client, "officer1", "demo", "shared").status_code == 200
    assert _token(client, "officer2", "demo", "shared").status_code == 403


def test_admin_routes_check_roles(client: TestClient[Any]) -> None:
    officer, admin = login(client, "officer1"), login(client, "admin")
    assert client.get("/api/admin/users", headers=officer).status_code == 403
    assert client.get("/api/admin/users").status_code == 401
    users = client.get("/api/admin/users", headers=admin).json()
    assert {u["username"] for u in users} >= {"officer1", "handler1", "supervisor1", "admin"}
    made = client.post("/api/admin/users", headers=admin, json={
        "username": "officer9", "password": "matkhau", "role": "officer",
        "full_name": "Ngô Văn Hải"})
    assert made.status_code == 201
    bad_role = client.post("/api/admin/users", headers=admin, json={
        "username": "x9", "password": "matkhau", "role": "king", "full_name": "X"})
    assert bad_role.status_code == 400
    assert client.post("/api/admin/users", headers=admin, json={
        "username": "officer9", "password": "matkhau", "role": "officer",
        "full_name": "Ngô Văn Hải"}).status_code == 409


def test_health_metrics_and_schema(client: TestClient[Any]) -> None:
    headers = login(client, "officer1")
    client.get("/sync/officer1", headers=headers)
    client.get("/sync/officer1/_changes", headers=headers)
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["storage"]["reachable"] is True
    assert health["workers"]["access_index"]["last_error"] is None
    metrics = client.get("/metrics").text
    assert "doorstep_sync_sessions_total 1.0" in metrics
    assert 'doorstep_sync_documents_total{direction="out"}' in metrics
    assert 'doorstep_http_requests_total{method="GET",route="/sync",status="200"}' in metrics
    schema = client.get("/schema/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    assert "/api/auth/token" in schema["paths"]
    assert not any(p.startswith("/sync") for p in schema["paths"])


def test_clock_skew_is_recorded(client: TestClient[Any], services: Services) -> None:
    headers = {**login(client, "officer1", "skewed"),
               "X-Device-Time": "Fri, 01 Jan 2016 00:00:00 GMT"}
    assert client.get("/sync/officer1/_changes", headers=headers).status_code == 200
    found = services.auth.device("skewed")
    assert found is not None and found[0].clock_skew_seconds is not None
    assert found[0].clock_skew_seconds < -300 * 24 * 3600
