"""The district TSA responder, in memory: tokens bind the imprint and nonce, are signed by the
TSA key under the Circular 15/2025 profile, and bad requests are refused, not crashed on."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib

from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from signing.tsa import DistrictTimeStamper, TsaResponder, _FailureResp

FIXED = dt.datetime(2026, 1, 15, 2, 30, tzinfo=dt.UTC)


def _responder() -> tuple[TsaResponder, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Quận Ba Đình — TSA")])
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(7)
        .not_valid_before(FIXED - dt.timedelta(days=1))
        .not_valid_after(FIXED + dt.timedelta(days=365))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    return TsaResponder(cert, key, clock=lambda: FIXED), key


def test_token_binds_imprint_nonce_and_time() -> None:
    responder, key = _responder()
    digest = hashlib.sha256(b"to ky khai").digest()
    token = asyncio.run(DistrictTimeStamper(responder).async_timestamp(digest, "sha256"))
    signed_data = token["content"]
    info = signed_data["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hashed_message"].native == digest
    assert info["gen_time"].native == FIXED
    signer_info = signed_data["signer_infos"][0]
    assert signer_info["signature_algorithm"]["algorithm"].native == "sha256_ecdsa"
    # The signature covers the signed attributes, with the TSA's own key.
    key.public_key().verify(signer_info["signature"].native,
                            signer_info["signed_attrs"].untag().dump(),
                            ec.ECDSA(hashes.SHA256()))


def test_serials_are_unique() -> None:
    responder, _ = _responder()
    stamper = DistrictTimeStamper(responder)
    serials = set()
    for i in range(20):
        token = asyncio.run(stamper.async_timestamp(hashlib.sha256(bytes([i])).digest(), "sha256"))
        serials.add(token["content"]["encap_content_info"]["content"].parsed["serial_number"].native)
    assert len(serials) == 20


def test_weak_digest_is_refused() -> None:
    responder, _ = _responder()
    request = tsp.TimeStampReq({
        "version": 1,
        "message_imprint": {"hash_algorithm": {"algorithm": "sha1"},
                            "hashed_message": hashlib.sha1(b"x").digest()},
    })
    response = responder.respond(request)
    assert response["status"]["status"].native == "rejection"
    assert response["status"]["fail_info"].native == {"bad_alg"}


def test_garbage_request_is_refused() -> None:
    responder, _ = _responder()
    answer = _FailureResp.load(responder.respond_der(b"\x30\x03garbage"))
    assert answer["status"]["status"].native == "rejection"


def test_wrong_digest_length_is_refused() -> None:
    responder, _ = _responder()
    request = tsp.TimeStampReq({
        "version": 1,
        "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": b"short"},
    })
    assert responder.respond(request)["status"]["status"].native == "rejection"


def test_refusal_surfaces_as_pyhanko_error() -> None:
    import pytest
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError

    responder, _ = _responder()
    with pytest.raises(TimestampRequestError, match="bad_data_format"):
        asyncio.run(DistrictTimeStamper(responder).async_timestamp(b"short", "sha256"))
