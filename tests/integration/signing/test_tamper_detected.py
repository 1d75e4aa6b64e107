"""The tamper matrix: each kind of tampering is detected, with the right reason.

Every case starts from a good document (citizen certificate + officer device), changes one
thing, and checks `verify_document` names that thing; byte-level tampering is also checked
with poppler's pdfsig, an independent validator.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields
from signing_helpers import (
    PASSPHRASE,
    PkiFixture,
    content,
    forge_citizen_signature,
    pdfsig_coverage,
    pdfsig_verdicts,
)

from signing import forms, pades, pki, samples
from signing.verify import ExpectedDossier, Problem, verify_document


def _expected(declaration: forms.DeclarationContent) -> ExpectedDossier:
    return ExpectedDossier(
        data=json.loads(declaration.dossier_json),
        attachment_sha256={a.name: hashlib.sha256(a.data).hexdigest()
                           for a in declaration.attachments},
    )


@pytest.fixture(scope="module")
def declaration() -> forms.DeclarationContent:
    return content()


@pytest.fixture(scope="module")
def good(test_pki: PkiFixture, declaration: forms.DeclarationContent) -> bytes:
    return pades.sign_declaration(
        forms.render_declaration(declaration), test_pki.signer("officer"),
        test_pki.device_trust(), citizen=test_pki.signer("citizen"),
    )


def _problems(report_problems: tuple[Problem, ...]) -> set[Problem]:
    return set(report_problems)


def _written(writer: IncrementalPdfFileWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_good_document_passes(test_pki: PkiFixture, good: bytes,
                              declaration: forms.DeclarationContent) -> None:
    report = verify_document(good, test_pki.district_trust(), _expected(declaration))
    assert report.ok, report
    assert [s.field for s in report.signatures] == [forms.CITIZEN_FIELD, forms.OFFICER_FIELD]
    assert report.signatures[1].signer == "Trần Văn Đức"
    assert len(report.attachments) == 3  # dossier.json + two photos


def test_byte_flipped_inside_signed_range(test_pki: PkiFixture, good: bytes,
                                          tmp_path: Path) -> None:
    photo = samples.sample_photo(0, 20_000)
    offset = good.index(photo[1000:1100]) + 50
    tampered = bytearray(good)
    tampered[offset] ^= 0x01
    report = verify_document(bytes(tampered), test_pki.district_trust())
    assert not report.ok
    for sig in report.signatures:
        assert Problem.INTEGRITY in sig.problems
    path = tmp_path / "flipped.pdf"
    path.write_bytes(bytes(tampered))
    verdicts = pdfsig_verdicts(path)
    assert len(verdicts) == 2 and all("Valid" not in v for v in verdicts), verdicts


def _append_field(pdf: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    fields.append_signature_field(writer, fields.SigFieldSpec("Extra", on_page=0,
                                                              box=(10, 10, 60, 60)))
    return _written(writer)


def _change_page(pdf: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    stream = generic.StreamObject(stream_data=b"BT /F1 30 Tf 100 100 Td (X) Tj ET")
    writer.add_stream_to_page(0, writer.add_object(stream))
    return _written(writer)


def _swap_attachment(pdf: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    names = writer.root["/Names"]["/EmbeddedFiles"]["/Names"]
    index = [str(names[i]) for i in range(0, len(names), 2)].index(forms.DOSSIER_JSON_NAME)
    spec_ref = names.raw_get(2 * index + 1)
    spec = spec_ref.get_object()
    fake = generic.StreamObject(stream_data=b'{"code": "forged"}')
    spec["/EF"] = generic.DictionaryObject({generic.pdf_name("/F"): writer.add_object(fake)})
    writer.mark_update(spec_ref)
    return _written(writer)


@pytest.mark.parametrize("tamper", [_append_field, _change_page, _swap_attachment],
                         ids=["field", "page", "attachment"])
def test_incremental_update_after_signing(test_pki: PkiFixture, good: bytes, tamper,  # type: ignore[no-untyped-def]
                                          tmp_path: Path) -> None:
    tampered = tamper(good)
    report = verify_document(tampered, test_pki.district_trust())
    assert not report.ok
    officer = report.signatures[1]
    assert officer.field == forms.OFFICER_FIELD
    assert Problem.MODIFIED in officer.problems, officer
    assert Problem.INTEGRITY not in officer.problems
    # pdfsig does not judge DocMDP, but it too sees that the officer's signature, which covered
    # the whole good file, no longer does.
    (tmp_path / "good.pdf").write_bytes(good)
    (tmp_path / "tampered.pdf").write_bytes(tampered)
    assert pdfsig_coverage(tmp_path / "good.pdf")[-1] is True
    assert pdfsig_coverage(tmp_path / "tampered.pdf")[-1] is False


def test_embedded_json_differs_from_dossier(test_pki: PkiFixture,
                                            declaration: forms.DeclarationContent) -> None:
    edited = samples.sample_declaration(
        pages=1, photos=2, photo_size=20_000,
        dossier={**samples.sample_dossier(), "fields": {"Họ, chữ đệm và tên": "Người Khác"}},
    )
    signed = pades.sign_declaration(forms.render_declaration(edited), test_pki.signer("officer"),
                                    test_pki.device_trust(), citizen=test_pki.signer("citizen"))
    report = verify_document(signed, test_pki.district_trust(), _expected(declaration))
    assert report.problems == (Problem.DOSSIER_MISMATCH,)
    assert all(s.ok for s in report.signatures)


def test_photo_swapped(test_pki: PkiFixture, declaration: forms.DeclarationContent) -> None:
    swapped = list(declaration.attachments)
    swapped[1] = forms.Attachment(swapped[1].name, samples.sample_photo(99, 20_000),
                                  swapped[1].mime, swapped[1].description)
    forged = forms.DeclarationContent(**{**declaration.__dict__, "attachments": tuple(swapped)})
    signed = pades.sign_declaration(forms.render_declaration(forged), test_pki.signer("officer"),
                                    test_pki.device_trust(), citizen=test_pki.signer("citizen"))
    report = verify_document(signed, test_pki.district_trust(), _expected(declaration))
    assert report.problems == (Problem.ATTACHMENT_MISMATCH,)
    bad = [a.name for a in report.attachments if not a.matches]
    assert bad == [swapped[1].name]


def test_device_revoked_before_signing(test_pki: PkiFixture,
                                       declaration: forms.DeclarationContent) -> None:
    # The device still holds the CRL from before its revocation, so it signs offline.
    signed = pades.sign_declaration(
        forms.render_declaration(declaration), test_pki.signer("revoked_officer"),
        test_pki.trust_before_revocation, drawing=None, citizen=test_pki.signer("citizen"),
    )
    report = verify_document(signed, test_pki.district_trust())
    officer = report.signatures[1]
    assert officer.problems == (Problem.REVOKED,)
    assert officer.revoked_at is not None
    assert report.signatures[0].ok  # the citizen's signature is unaffected


def test_device_with_current_crl_refuses_to_sign_when_revoked(
        test_pki: PkiFixture, declaration: forms.DeclarationContent) -> None:
    with pytest.raises(Exception, match="not usable"):
        pades.sign_declaration(forms.render_declaration(declaration),
                               test_pki.signer("revoked_officer"), test_pki.device_trust(),
                               citizen=test_pki.signer("citizen"))


def test_expired_citizen_certificate(test_pki: PkiFixture,
                                     declaration: forms.DeclarationContent) -> None:
    expired = test_pki.signer  # our loader refuses it; another tool might not
    with pytest.raises(Exception, match="expired"):
        expired("expired_citizen")
    from pyhanko.sign import signers

    raw = signers.SimpleSigner.load_pkcs12_data(test_pki.p12["expired_citizen"], (),
                                                passphrase=b"p12-password")
    pdf = pades.add_signature_fields(forms.render_declaration(declaration))
    pdf = forge_citizen_signature(pdf, raw)
    report = verify_document(pdf, test_pki.district_trust())
    assert report.signatures[0].problems == (Problem.EXPIRED,)


def test_certificate_from_another_ca(test_pki: PkiFixture,
                                     declaration: forms.DeclarationContent) -> None:
    rogue_trust = test_pki.rogue.trust()
    signed = pades.sign_declaration(forms.render_declaration(declaration),
                                    test_pki.signer("rogue_officer"), rogue_trust,
                                    citizen=test_pki.signer("citizen"))
    report = verify_document(signed, test_pki.district_trust())
    assert report.signatures[1].problems == (Problem.UNTRUSTED,)
    assert report.signatures[0].ok


def test_citizen_certificate_without_nonrepudiation(
        test_pki: PkiFixture, declaration: forms.DeclarationContent) -> None:
    with pytest.raises(Exception, match="non-repudiation"):
        test_pki.signer("no_nonrep_citizen")
    from pyhanko.sign import signers

    raw = signers.SimpleSigner.load_pkcs12_data(test_pki.p12["no_nonrep_citizen"], (),
                                                passphrase=b"p12-password")
    pdf = pades.add_signature_fields(forms.render_declaration(declaration))
    pdf = forge_citizen_signature(pdf, raw)
    pdf = pades.sign_as_officer(pdf, test_pki.signer("officer"), test_pki.device_trust(),
                                certify=False)
    report = verify_document(pdf, test_pki.district_trust())
    assert report.signatures[0].problems == (Problem.KEY_USAGE,)
    assert report.signatures[1].ok


def test_revoked_after_signing_keeps_signature(test_pki: PkiFixture,
                                               declaration: forms.DeclarationContent) -> None:
    late = test_pki.issued["late_revoked_officer"].certificate.serial_number
    signed = pades.sign_declaration(forms.render_declaration(declaration),
                                    test_pki.signer("late_revoked_officer"),
                                    test_pki.device_trust(), citizen=test_pki.signer("citizen"))
    district = type(test_pki.district).open(test_pki.district.layout.directory)
    # Revocation dates have whole seconds: keep it clearly after the signing time.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    district.revoke(PASSPHRASE, late, "cessationOfOperation", at=later)
    report = verify_document(signed, test_pki.district_trust())
    assert report.ok, report
    assert report.signatures[1].revoked_at is not None
    assert any("thu hồi" in note for note in report.notes)


def _rsa_citizen(test_pki: PkiFixture) -> tuple[bytes, Any]:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(65537, 2048)
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
           .sign(key, hashes.SHA256()))
    issued = test_pki.national.issue_device(
        PASSPHRASE, officer_id="001190000001", officer_name="Bùi Thị Xuân", device_id="rsa",
        csr_pem=csr.public_bytes(serialization.Encoding.PEM))
    chain = [test_pki.national.issuing_cert, test_pki.national.root_cert]
    return pki.pkcs12_bundle(issued.certificate, key, chain, b"pw"), key


def test_rsa_citizen_signs_with_pss(test_pki: PkiFixture,
                                   declaration: forms.DeclarationContent) -> None:
    p12, _key = _rsa_citizen(test_pki)
    citizen = pades.load_pkcs12(p12, b"pw")
    signed = pades.sign_declaration(forms.render_declaration(declaration),
                                    test_pki.signer("officer"), test_pki.device_trust(),
                                    citizen=citizen)
    report = verify_document(signed, test_pki.district_trust())
    assert report.ok, report
    reader = PdfFileReader(io.BytesIO(signed))
    mechanism = reader.embedded_signatures[0].signer_info["signature_algorithm"]
    assert mechanism["algorithm"].native == "rsassa_pss"


def test_rsa_pkcs1_v15_signature_is_weak(test_pki: PkiFixture,
                                        declaration: forms.DeclarationContent) -> None:
    from pyhanko.sign import signers

    p12, _key = _rsa_citizen(test_pki)
    raw = signers.SimpleSigner.load_pkcs12_data(p12, (), passphrase=b"pw")  # no PSS
    pdf = forge_citizen_signature(pades.add_signature_fields(
        forms.render_declaration(declaration)), raw)
    report = verify_document(pdf, test_pki.district_trust())
    assert report.signatures[0].problems == (Problem.WEAK_ALGORITHM,)
