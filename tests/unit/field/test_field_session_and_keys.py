"""The device's rules that need no server: tokens and their refresh, how the server's
answers become errors (a wipe order above all), and the PIN-wrapped store key.
The server is a local double (`httpx.MockTransport`): no socket is opened."""

from __future__ import annotations

import json
import os
import time

import httpx
import pytest

from field.device import unwrap_key, wrap_key
from field.errors import DeviceError, ServerRefused, ServerUnreachable, WipeOrdered
from field.session import ServerSession, WipeWatch


def _server(answers: dict[str, httpx.Response], seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers[request.url.path]

    return httpx.MockTransport(handle)


def _tokens(n: int, expires_in: int = 900) -> httpx.Response:
    return httpx.Response(200, json={"access_token": f"a{n}", "refresh_token": f"r{n}",
                                     "expires_in": expires_in})


def _session(answers: dict[str, httpx.Response], seen: list[httpx.Request]) -> ServerSession:
    return ServerSession("https://office.example", "officer1", "D1",
                         transport=_server(answers, seen))


def test_login_keeps_the_tokens_and_never_the_password() -> None:
    seen: list[httpx.Request] = []
    session = _session({"/api/auth/token": _tokens(1)}, seen)
    session.login("s3cret")
    assert session.access_token() == "a1"
    assert json.loads(seen[0].content) == {"username": "officer1", "password": "s3cret",
                                           "device_id": "D1"}
    assert "s3cret" not in repr(vars(session))


def test_a_token_near_its_end_is_refreshed_first() -> None:
    seen: list[httpx.Request] = []
    session = _session({"/api/auth/token": _tokens(1, expires_in=8),
                        "/api/auth/refresh": _tokens(2)}, seen)
    session.login("pw")
    assert session.access_token() == "a1"  # 8 s left, refreshed 2 s before the end
    assert session._tokens is not None
    session._tokens.expires_at = time.monotonic() + 1
    assert session.access_token() == "a2"
    assert json.loads(seen[-1].content) == {"refresh_token": "r1", "device_id": "D1"}


def test_a_wipe_order_is_told_apart_from_a_refusal() -> None:
    wipe = httpx.Response(401, json={"status": 401, "wipe": True,
                                     "detail": "Thiết bị đã bị thu hồi."})
    with pytest.raises(WipeOrdered, match="thu hồi"):
        _session({"/api/auth/token": wipe}, []).login("pw")
    bad = httpx.Response(401, json={"status": 401, "detail": "Sai mật khẩu."})
    with pytest.raises(ServerRefused, match="Sai mật khẩu"):
        _session({"/api/auth/token": bad}, []).login("pw")
    down = httpx.Response(503, text="unavailable")
    with pytest.raises(ServerUnreachable):
        _session({"/api/auth/token": down}, []).login("pw")


def test_an_unreachable_server_is_named_without_secrets() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    session = ServerSession("https://office.example", "officer1", "D1",
                            transport=httpx.MockTransport(refuse))
    with pytest.raises(ServerUnreachable, match=r"office\.example") as caught:
        session.login("pw-not-shown")
    assert "pw-not-shown" not in caught.value.message


def test_only_http_urls_are_servers() -> None:
    with pytest.raises(ServerRefused, match="https://"):
        ServerSession("ftp://office.example", "officer1", "D1")


def test_the_sync_transport_notes_a_wipe_and_stamps_the_device_clock() -> None:
    seen: list[httpx.Request] = []
    answers = {"/sync/officer1": httpx.Response(401, json={
        "error": "unauthorized", "reason": "Thiết bị đã bị thu hồi.", "wipe": True}),
        "/sync/officer1/_changes": httpx.Response(401, json={"error": "unauthorized"})}
    watch = WipeWatch(_server(answers, seen))
    with httpx.Client(transport=watch) as client:
        client.get("https://office.example/sync/officer1/_changes")
        assert watch.wipe_reason is None  # a plain 401: an expired token, not a wipe
        answer = client.get("https://office.example/sync/officer1")
    assert answer.json()["wipe"] is True  # the replicator still reads the answer
    assert watch.wipe_reason == "Thiết bị đã bị thu hồi."
    assert all("x-device-time" in r.headers for r in seen)


def test_the_store_key_opens_only_with_the_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOORSTEP_FIELD_ARGON2_MEMORY_KIB", "2048")
    key = os.urandom(32)
    wrapped = wrap_key(key, "2468")
    assert wrapped.memory_kib == 2048  # the cost travels with the key
    assert key.hex() not in repr(wrapped)
    assert unwrap_key(wrapped, "2468") == key
    with pytest.raises(DeviceError, match="PIN"):
        unwrap_key(wrapped, "1357")
