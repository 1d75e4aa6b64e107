"""Circular 15/2025 profile checks and serial parsing (pure, in memory)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from signing.errors import PkiError, ProfileError
from signing.pki import check_public_key, format_serial, parse_serial


@pytest.mark.parametrize("key", [
    ec.generate_private_key(ec.SECP256R1()).public_key(),
    ec.generate_private_key(ec.SECP384R1()).public_key(),
    rsa.generate_private_key(65537, 2048).public_key(),
])
def test_allowed_keys(key: object) -> None:
    check_public_key(key)


@pytest.mark.parametrize(("key", "reason"), [
    (ec.generate_private_key(ec.SECP192R1()).public_key(), "not allowed"),
    (rsa.generate_private_key(65537, 1024).public_key(), "too short"),
    (ed25519.Ed25519PrivateKey.generate().public_key(), "not allowed"),
])
def test_refused_keys(key: object, reason: str) -> None:
    with pytest.raises(ProfileError, match=reason):
        check_public_key(key)


@pytest.mark.parametrize("text", ["1A2B", "0x1a2b", "1a:2b", " 1A2B "])
def test_serial_forms(text: str) -> None:
    assert parse_serial(text) == 0x1A2B
    assert format_serial(parse_serial(text)) == "1A2B"


@pytest.mark.parametrize("text", ["", "xyz", "12-34"])
def test_bad_serials(text: str) -> None:
    with pytest.raises(PkiError):
        parse_serial(text)
