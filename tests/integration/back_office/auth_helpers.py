"""Logging a demo user in to the in-process back office (password "demo"): the one way the
back-office scenarios get Authorization headers, directly or through the `logins` fixture."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient


def login(client: TestClient[Any], username: str, device: str | None = None) -> dict[str, str]:
    answer = client.post("/api/auth/token", json={
        "username": username, "password": "demo", "device_id": device or f"dev-{username}"})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}
