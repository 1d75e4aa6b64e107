"""The district seal: its certificate's profile, lazy creation, refusals, and a seal that
pyHanko's validator calls intact, trusted under the district roots and timestamped (B-T)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import msgspec
import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtensionOID, NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing import forms, samples
from signing.errors import CredentialError, SecretError, SignatureError
from signing.pki import DistrictPki, PkiState, init_pki
from signing.seal import SEAL_FIELD, SealError, seal_result
from signing.verify import validation_context

PASSPHRASE = b"seal unit passphrase"
DISTRICT = "Quận Ba Đình"


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> DistrictPki:
    return init_pki(tmp_path_factory.mktemp("pki"), DISTRICT, PASSPHRASE)


@pytest.fixture(scope="module")
def result_pdf() -> bytes:
    return forms.render_receipt(samples.sample_declaration()).pdf


def _seal_status(pdf: bytes, district: DistrictPki, field: str = SEAL_FIELD) -> object:
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    sig = next(s for s in reader.embedded_signatures if s.field_name == field)
    vc = validation_context(district.trust(), mode="require")
    return validate_pdf_signature(sig, signer_validation_context=vc, ts_validation_context=vc)


def test_the_seal_certificate_is_an_organisation_certificate_of_the_issuing_ca(
        district: DistrictPki) -> None:
    cert, key = district.seal(PASSPHRASE)
    assert cert.issuer == district.issuing_cert.subject
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == "Ủy ban nhân dân Quận Ba Đình"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == DISTRICT
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign
    points = cert.extensions.get_extension_for_oid(ExtensionOID.CRL_DISTRIBUTION_POINTS).value
    assert points[0].full_name[0].value == district.state.crl_url
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert key.curve.name == "secp256r1"  # type: ignore[union-attr]
    # Stored encrypted with the PKI passphrase, like the CA keys.
    stored = district.layout.seal_key.read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in stored
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(stored, password=None)
    with pytest.raises(SecretError):
        district.seal(b"not the passphrase")
    kinds = [item.kind for item in DistrictPki.open(district.layout.directory).state.issued]
    assert kinds.count("seal") == 1


def test_a_pki_made_before_the_seal_gets_one_on_first_use(tmp_path: Path) -> None:
    old = init_pki(tmp_path / "old", DISTRICT, PASSPHRASE)
    # Make the directory look like one written before seals existed.
    old.layout.seal_cert.unlink()
    old.layout.seal_key.unlink()
    state = msgspec.json.decode(old.layout.state.read_bytes(), type=PkiState)
    state.issued = [item for item in state.issued if item.kind != "seal"]
    old.layout.state.write_bytes(msgspec.json.encode(state))
    reopened = DistrictPki.open(tmp_path / "old")
    first, _ = reopened.seal(PASSPHRASE)
    again, _ = DistrictPki.open(tmp_path / "old").seal(PASSPHRASE)
    assert first.serial_number == again.serial_number  # made once, then kept
    kinds = [item.kind for item in DistrictPki.open(tmp_path / "old").state.issued]
    assert kinds.count("seal") == 1


def test_a_sealed_result_is_valid_trusted_and_timestamped(
        district: DistrictPki, result_pdf: bytes) -> None:
    sealed = seal_result(result_pdf, district, PASSPHRASE)
    assert sealed.startswith(result_pdf)  # an incremental update: the result is untouched
    status = _seal_status(sealed, district)
    assert status.bottom_line, status.pretty_print_details()  # type: ignore[attr-defined]
    assert status.trusted and status.intact and status.valid  # type: ignore[attr-defined]
    assert status.coverage.name == "ENTIRE_FILE"  # type: ignore[attr-defined]
    # PAdES B-T: a signature timestamp from the district TSA, itself valid and trusted.
    ts = status.timestamp_validity  # type: ignore[attr-defined]
    assert ts is not None and ts.intact and ts.valid and ts.trusted
    tsa_cn = ts.signing_cert.subject.native["common_name"]
    assert tsa_cn == "Quận Ba Đình — TSA"
    signer_cn = status.signing_cert.subject.native["common_name"]  # type: ignore[attr-defined]
    assert signer_cn == "Ủy ban nhân dân Quận Ba Đình"
    reader = PdfFileReader(io.BytesIO(sealed), strict=False)
    assert "/DSS" in reader.root  # chain and CRLs for offline validation (B-LT)
    assert "/Perms" in reader.root  # an unsigned result is certified by the seal
    sig = reader.embedded_signatures[0]
    assert sig.sig_field["/V"]["/Reason"] == "Đóng dấu kết quả giải quyết thủ tục hành chính"
    assert "/AP" in sig.sig_field  # a visible stamp


def test_archival_adds_a_document_timestamp(district: DistrictPki, result_pdf: bytes) -> None:
    sealed = seal_result(result_pdf, district, PASSPHRASE, archival=True)
    reader = PdfFileReader(io.BytesIO(sealed), strict=False)
    kinds = [s.sig_object_type for s in reader.embedded_signatures]
    assert kinds == ["/Sig", "/DocTimeStamp"]
    assert _seal_status(sealed, district).bottom_line  # type: ignore[attr-defined]


def test_a_changed_byte_breaks_the_seal(district: DistrictPki, result_pdf: bytes) -> None:
    sealed = bytearray(seal_result(result_pdf, district, PASSPHRASE))
    sealed[sealed.index(b"stream") + 30] ^= 0x01
    status = _seal_status(bytes(sealed), district)
    assert not status.intact and not status.bottom_line  # type: ignore[attr-defined]


def test_an_already_signed_result_keeps_its_signature(
        district: DistrictPki, result_pdf: bytes) -> None:
    # The chairman's own approval signature first (here a device certificate stands in).
    issued = district.issue_device(PASSPHRASE, officer_id="ct1", officer_name="Chủ tịch",
                                   device_id="desk-1")
    assert issued.key is not None
    der = serialization.Encoding.DER
    key_der = issued.key.private_bytes(der, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
    chairman = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(issued.certificate.public_bytes(der)),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs(
            [asn1_x509.Certificate.load(district.issuing_cert.public_bytes(der))]))
    meta = signers.PdfSignatureMetadata(field_name="Chairman", md_algorithm="sha256",
                                        subfilter=fields.SigSeedSubFilter.PADES)
    signed = signers.PdfSigner(meta, chairman, new_field_spec=fields.SigFieldSpec(
        "Chairman", box=(72, 300, 250, 360))).sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(result_pdf))).getvalue()
    sealed = seal_result(signed, DistrictPki.open(district.layout.directory), PASSPHRASE)
    reader = PdfFileReader(io.BytesIO(sealed), strict=False)
    assert [s.field_name for s in reader.embedded_signatures] == ["Chairman", SEAL_FIELD]
    assert "/Perms" not in reader.root  # an approval seal: a certification must come first
    for field in ("Chairman", SEAL_FIELD):
        status = _seal_status(sealed, district, field)
        assert status.bottom_line, (field, status.pretty_print_details())  # type: ignore[attr-defined]


@pytest.mark.parametrize(("data", "message"), [
    (b"", "not a PDF"),
    (b"hello, this is a text file", "not a PDF"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "not a PDF"),
    (b"%PDF-1.7\n garbage without objects", "cannot be read|no readable page"),
])
def test_non_pdf_input_is_refused(district: DistrictPki, data: bytes, message: str) -> None:
    with pytest.raises(SealError, match=message):
        seal_result(data, district, PASSPHRASE)


def test_an_encrypted_pdf_is_refused(district: DistrictPki, result_pdf: bytes) -> None:
    reader = PdfFileReader(io.BytesIO(result_pdf))
    writer = PdfFileWriter()
    writer.root["/Pages"] = writer.import_object(reader.root["/Pages"])  # type: ignore[index]
    writer.encrypt("owner-secret", "user-secret")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(SealError, match="encrypted"):
        seal_result(out.getvalue(), district, PASSPHRASE)


def test_a_seal_error_is_a_signing_error() -> None:
    assert issubclass(SealError, SignatureError)


def test_a_revoked_seal_certificate_is_refused(tmp_path: Path, result_pdf: bytes) -> None:
    district = init_pki(tmp_path / "pki", DISTRICT, PASSPHRASE)
    cert, _ = district.seal(PASSPHRASE)
    district.revoke(PASSPHRASE, cert.serial_number, "keyCompromise",
                    at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    with pytest.raises(CredentialError, match="seal certificate is not usable"):
        seal_result(result_pdf, DistrictPki.open(tmp_path / "pki"), PASSPHRASE)


def test_a_wrong_passphrase_is_refused_before_signing(
        district: DistrictPki, result_pdf: bytes) -> None:
    with pytest.raises(SecretError):
        seal_result(result_pdf, district, b"wrong passphrase")
