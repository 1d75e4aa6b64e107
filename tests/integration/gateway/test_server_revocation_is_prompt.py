"""Per-request authentication answers from memory, yet revocation stays prompt: a device
revoked or a user disabled through this server is refused on the very next request; one
revoked by ANOTHER server over the same database (which cannot tell this one) is refused
within the standing's time to live."""

from __future__ import annotations

import time
from typing import Any

import pytest
from litestar.testing import TestClient

from api.auth.service import STANDING_TTL_SECONDS, AuthService
from api.auth.tokens import TokenIssuer, load_or_create_secret
from api.auth.users import AUTH_DB
from api.errors import NotAuthenticated
from api.services import Services


def _bearer(client: TestClient[Any], user: str, device: str) -> str:
    answer = client.post("/api/auth/token", json={
        "username": user, "password": "demo", "device_id": device})
    assert answer.status_code == 200, answer.text
    return f"Bearer {answer.json()['access_token']}"


def _other_server(services: Services) -> AuthService:
    """A second server's auth service over the same auth database (its own cache)."""
    settings = services.settings
    db = services.storage.open(settings.server.db_prefix + AUTH_DB, create=False)
    issuer = TokenIssuer(load_or_create_secret(settings.server.data_dir),
                         settings.auth.access_ttl_seconds)
    return AuthService(db, issuer, settings.auth)


def test_a_revocation_elsewhere_is_refused_within_the_ttl(client: TestClient[Any],
                                                          services: Services) -> None:
    bearer = _bearer(client, "officer1", "phone-elsewhere")
    assert services.auth.authenticate(bearer).username == "officer1"  # now cached
    _other_server(services).revoke_device("phone-elsewhere")
    deadline = time.monotonic() + STANDING_TTL_SECONDS + 1.0
    while True:
        try:
            services.auth.authenticate(bearer)
        except NotAuthenticated as refused:
            assert refused.wipe is True
            break
        assert time.monotonic() < deadline, "the revocation never reached this server"
        time.sleep(0.05)


def test_a_revocation_here_is_refused_at_once_and_tokens_are_still_checked(
        client: TestClient[Any], services: Services) -> None:
    bearer = _bearer(client, "officer2", "phone-here")
    for _ in range(3):  # served from memory after the first
        assert services.auth.authenticate(bearer).device_id == "phone-here"
    services.auth.set_disabled("officer2", True)
    with pytest.raises(NotAuthenticated):
        services.auth.authenticate(bearer)
    with pytest.raises(NotAuthenticated):  # a forged token is never in the cache
        services.auth.authenticate(bearer[:-2] + ("AA" if not bearer.endswith("AA") else "BB"))
