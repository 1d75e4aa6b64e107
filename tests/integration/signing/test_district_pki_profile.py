"""The district PKI on disk follows its profile: encrypted CA keys, device certificates with
the right key usages, CRL distribution point and Vietnamese subject, a TSA certificate with
the timeStamping EKU, CRLs covering the offline period, a reference document for devices,
and enrollment from a CSR whose key never leaves the device."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from signing_helpers import PASSPHRASE, PkiFixture

from signing import pki
from signing.errors import PkiError, ProfileError, SecretError


def test_ca_keys_are_encrypted_at_rest(test_pki: PkiFixture) -> None:
    layout = test_pki.district.layout
    for path in (layout.root_key, layout.issuing_key, layout.tsa_key):
        text = path.read_text()
        assert "BEGIN ENCRYPTED PRIVATE KEY" in text
        with pytest.raises(TypeError):
            serialization.load_pem_private_key(path.read_bytes(), password=None)
    with pytest.raises(SecretError):
        test_pki.district.tsa_key(b"wrong passphrase")


def test_device_certificate_profile(test_pki: PkiFixture) -> None:
    cert = test_pki.issued["officer"].certificate
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign
    points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert points[0].full_name[0].value == test_pki.district.state.crl_url
    name = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert name == "Trần Văn Đức" and unicodedata.is_normalized("NFC", str(name))
    assert cert.signature_hash_algorithm is not None
    assert cert.signature_hash_algorithm.name == "sha256"
    assert pki.certificate_profile_problems(cert) == []


def test_tsa_certificate_has_timestamping_eku(test_pki: PkiFixture) -> None:
    eku = test_pki.district.tsa_cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]


def test_crl_covers_offline_period_and_lists_revocations(test_pki: PkiFixture) -> None:
    crl = x509.load_der_x509_crl(test_pki.district.layout.issuing_crl.read_bytes())
    assert crl.next_update_utc is not None
    span = crl.next_update_utc - crl.last_update_utc
    assert span >= dt.timedelta(days=test_pki.district.state.offline_days)
    revoked = test_pki.issued["revoked_officer"].certificate.serial_number
    entry = crl.get_revoked_certificate_by_serial_number(revoked)
    assert entry is not None
    assert crl.is_signature_valid(test_pki.district.issuing_cert.public_key())  # type: ignore[arg-type]
    reference = json.loads(test_pki.district.layout.reference.read_bytes())
    assert reference["kind"] == "district-pki"
    assert format(revoked, "X") in {r["serial"] for r in reference["revoked"]}
    anchors = pki.TrustAnchors.from_reference(reference)
    assert anchors.crls[1] == test_pki.district.layout.issuing_crl.read_bytes()


def test_enrollment_from_csr(test_pki: PkiFixture) -> None:
    device_key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ignored")]))
           .sign(device_key, hashes.SHA256()))
    issued = test_pki.district.issue_device(
        PASSPHRASE, officer_id="o20", officer_name="Hoàng Thị Thu", device_id="dev-20",
        csr_pem=csr.public_bytes(serialization.Encoding.PEM))
    assert issued.key is None
    assert issued.certificate.public_key() == device_key.public_key()
    # The CA, not the device, decides the subject.
    assert "Hoàng Thị Thu" in issued.certificate.subject.rfc4514_string()


def test_weak_csr_is_refused(test_pki: PkiFixture) -> None:
    weak = rsa.generate_private_key(65537, 1024)
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
           .sign(weak, hashes.SHA256()))
    before = len(test_pki.district.state.issued)
    with pytest.raises(ProfileError, match="too short"):
        test_pki.district.issue_device(PASSPHRASE, officer_id="o21", officer_name="A",
                                       device_id="d", csr_pem=csr.public_bytes(
                                           serialization.Encoding.PEM))
    assert len(test_pki.district.state.issued) == before


def test_init_refuses_existing_directory(test_pki: PkiFixture) -> None:
    directory = test_pki.district.layout.directory
    before = (directory / "root.pem").read_bytes()
    with pytest.raises(PkiError, match="already holds"):
        pki.init_pki(directory, "Khác", PASSPHRASE)
    assert (directory / "root.pem").read_bytes() == before


def test_revoke_twice_or_unknown_is_refused(test_pki: PkiFixture, tmp_path: Path) -> None:
    serial = test_pki.issued["revoked_officer"].certificate.serial_number
    with pytest.raises(PkiError, match="already revoked"):
        test_pki.district.revoke(PASSPHRASE, serial, "keyCompromise")
    with pytest.raises(PkiError, match="no certificate"):
        test_pki.district.revoke(PASSPHRASE, 0xABCDEF, "keyCompromise")


def test_two_handles_do_not_lose_each_others_work(tmp_path: Path) -> None:
    first = pki.init_pki(tmp_path / "p", "Huyện Thử", PASSPHRASE)
    second = pki.DistrictPki.open(tmp_path / "p")
    a = first.issue_device(PASSPHRASE, officer_id="a", officer_name="Ánh", device_id="1")
    second.revoke(PASSPHRASE, a.certificate.serial_number, "superseded")  # knew nothing of a
    b = first.issue_device(PASSPHRASE, officer_id="b", officer_name="Bình", device_id="2")
    state = pki.DistrictPki.open(tmp_path / "p").state
    assert {i.serial for i in state.issued} >= {a.serial_hex, b.serial_hex}
    assert [r.serial for r in state.revoked] == [a.serial_hex]
