"""Validation of signed declarations: signatures, trust, revocation, modifications, contents.

Guarantees:
- `verify_document` never raises on a bad document: it returns a frozen `DocumentReport` whose
  `ok` is True only if every signature is intact, cryptographically valid, trusted under the
  given district roots with revocation data *required* (no fetching), in force at its claimed
  signing time, followed only by permitted modifications, made with a certificate that allows
  non-repudiation under the Circular 15/2025 profile — and the embedded files match the
  embedded manifest (and, when given, the dossier the caller expects).
- Each failure carries a `Problem` code (stable, for machines) and a Vietnamese message.
- A certificate revoked *after* its signature's claimed time does not fail the signature; the
  report still names the revocation.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import io
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields as pdf_fields
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext

from signing.forms import CITIZEN_FIELD, DOSSIER_JSON_NAME, MANIFEST_NAME
from signing.pki import TrustAnchors, certificate_profile_problems


class Problem(StrEnum):
    NO_SIGNATURE = "no_signature"
    UNSIGNED_FIELD = "unsigned_field"
    UNREADABLE = "unreadable"
    INTEGRITY = "integrity"
    UNTRUSTED = "untrusted"
    REVOKED = "revoked"
    EXPIRED = "expired"
    NO_REVOCATION_INFO = "no_revocation_info"
    KEY_USAGE = "key_usage"
    WEAK_ALGORITHM = "weak_algorithm"
    MODIFIED = "modified_after_signing"
    NOT_COVERED = "not_covered"
    MANIFEST = "manifest"
    ATTACHMENT_MISMATCH = "attachment_mismatch"
    DOSSIER_MISMATCH = "dossier_mismatch"


MESSAGES: dict[Problem, str] = {
    Problem.NO_SIGNATURE: "Tài liệu không có chữ ký số nào.",
    Problem.UNSIGNED_FIELD: "Còn ô chữ ký chưa được ký.",
    Problem.UNREADABLE: "Không đọc được tệp PDF hoặc chữ ký.",
    Problem.INTEGRITY: "Nội dung đã bị thay đổi sau khi ký (mã băm không khớp).",
    Problem.UNTRUSTED: "Chứng thư số không do tổ chức được tin cậy cấp.",
    Problem.REVOKED: "Chứng thư số đã bị thu hồi trước thời điểm ký.",
    Problem.EXPIRED: "Chứng thư số đã hết hạn (hoặc chưa có hiệu lực) tại thời điểm ký.",
    Problem.NO_REVOCATION_INFO: "Thiếu thông tin thu hồi (CRL) hợp lệ để kiểm tra chứng thư.",
    Problem.KEY_USAGE: "Chứng thư số không cho phép ký chống chối bỏ (nonRepudiation).",
    Problem.WEAK_ALGORITHM: "Thuật toán hoặc khoá không đạt yêu cầu Thông tư 15/2025.",
    Problem.MODIFIED: "Tài liệu bị sửa đổi ngoài phạm vi cho phép sau khi ký.",
    Problem.NOT_COVERED: "Chữ ký không bao phủ toàn bộ phiên bản tài liệu.",
    Problem.MANIFEST: "Danh mục tệp đính kèm thiếu hoặc không khớp với tệp đính kèm.",
    Problem.ATTACHMENT_MISMATCH: "Tệp đính kèm khác với tệp mà hồ sơ khai báo.",
    Problem.DOSSIER_MISMATCH: "Dữ liệu JSON đính kèm khác với dữ liệu hồ sơ.",
}

_STRONG_DIGESTS = {"sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512"}


@dataclass(frozen=True)
class ExpectedDossier:
    """What the synced dossier claims: its data and its attachments' SHA-256 digests."""

    data: Any
    attachment_sha256: Mapping[str, str]


@dataclass(frozen=True)
class SignatureReport:
    field: str
    kind: str  # "signature" or "timestamp"
    signer: str
    signer_serial: str
    claimed_time: str | None
    intact: bool
    valid: bool
    trusted: bool
    revoked_at: str | None
    modification: str | None
    problems: tuple[Problem, ...]
    detail: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class AttachmentReport:
    name: str
    size: int
    sha256: str
    matches: bool


@dataclass(frozen=True)
class DocumentReport:
    signatures: tuple[SignatureReport, ...]
    attachments: tuple[AttachmentReport, ...]
    problems: tuple[Problem, ...]  # document-level: contents, unsigned fields
    level: str
    drawn_signature: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems and all(s.ok for s in self.signatures)

    def all_problems(self) -> tuple[Problem, ...]:
        found = list(self.problems)
        for sig in self.signatures:
            found.extend(sig.problems)
        return tuple(dict.fromkeys(found))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        for sig, raw in zip(self.signatures, data["signatures"], strict=True):
            raw["ok"] = sig.ok
        # Plain JSON values only (tuples become lists, problem codes plain strings).
        native: dict[str, Any] = json.loads(json.dumps(data))
        return native


# ---------------------------------------------------------------------------------------------
# Validation contexts


@functools.lru_cache(maxsize=8)
def _loaded(trust: TrustAnchors) -> tuple[list[Any], list[Any], list[Any]]:
    """Parsed trust material, kept between calls: asn1crypto caches name comparisons (slow
    stringprep on Vietnamese names) and parsed fields on these objects, so every validation
    that shares them skips that work. Loaded once per distinct `TrustAnchors`; the objects are
    only read afterwards (asn1crypto's lazy caches fill idempotently), so threads may share
    them."""
    return (
        [asn1_x509.Certificate.load(der) for der in trust.roots],
        [asn1_x509.Certificate.load(der) for der in trust.intermediates],
        [asn1_crl.CertificateList.load(der) for der in trust.crls],
    )


def validation_context(
    trust: TrustAnchors,
    *,
    mode: str = "require",
    moment: dt.datetime | None = None,
    retroactive: bool = False,
) -> ValidationContext:
    """An offline context: district roots, known intermediates and CRLs, never fetching."""
    roots, intermediates, crls = _loaded(trust)
    return ValidationContext(
        trust_roots=roots,
        other_certs=intermediates,
        crls=crls,
        allow_fetching=False,
        revocation_mode=mode,
        moment=moment,
        retroactive_revinfo=retroactive,
    )


# ---------------------------------------------------------------------------------------------
# Signatures


def _claimed_time(embedded: Any) -> dt.datetime | None:
    signed_attrs = embedded.signer_info["signed_attrs"]
    for attr in signed_attrs:
        if attr["type"].native == "signing_time":
            value: dt.datetime = attr["values"][0].native
            return value
    reported: dt.datetime | None = embedded.self_reported_timestamp
    return reported


def _signer_facts(cert: asn1_x509.Certificate) -> tuple[str, str, x509.Certificate]:
    crypto = x509.load_der_x509_certificate(cert.dump())
    names = crypto.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    name = str(names[0].value) if names else crypto.subject.rfc4514_string()
    return name, format(crypto.serial_number, "X"), crypto


def _lacks_nonrepudiation(cert: x509.Certificate) -> bool:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return False  # no KeyUsage extension means no restriction
    return not usage.content_commitment


def _trust_problem(status: Any, cert: x509.Certificate, moment: dt.datetime | None) -> Problem:
    """Name why a chain of trust failed, in the order a person would look for it."""
    if status.revoked:
        return Problem.REVOKED
    when = moment or dt.datetime.now(dt.UTC)
    if when > cert.not_valid_after_utc or when < cert.not_valid_before_utc:
        return Problem.EXPIRED
    if _lacks_nonrepudiation(cert):
        return Problem.KEY_USAGE
    indic = str(getattr(status.trust_problem_indic, "name", ""))
    if indic in {"EXPIRED", "NOT_YET_VALID", "OUT_OF_BOUNDS_NO_POE", "OUT_OF_BOUNDS_NOT_REVOKED"}:
        return Problem.EXPIRED
    if indic in {"REVOKED", "REVOKED_NO_POE", "REVOKED_CA_NO_POE"}:
        return Problem.REVOKED
    if indic in {"TRY_LATER", "REVOCATION_OUT_OF_BOUNDS_NO_POE"}:
        return Problem.NO_REVOCATION_INFO
    if indic in {"CRYPTO_CONSTRAINTS_FAILURE", "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"}:
        return Problem.WEAK_ALGORITHM
    return Problem.UNTRUSTED


def _revoked_later(cert: x509.Certificate, trust: TrustAnchors) -> str | None:
    """When a CRL lists `cert` although validation at signing time passed: revoked later."""
    for der in trust.crls:
        crl = x509.load_der_x509_crl(der)
        if crl.issuer != cert.issuer:
            continue
        entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if entry is not None:
            return entry.revocation_date_utc.isoformat()
    return None


def _modification_problems(status: Any) -> list[Problem]:
    problems: list[Problem] = []
    coverage = status.coverage
    if coverage is None or coverage.name not in {"ENTIRE_FILE", "ENTIRE_REVISION"}:
        problems.append(Problem.NOT_COVERED)
    level = status.modification_level
    if status.docmdp_ok is False or (level is not None and level.name == "OTHER"):
        problems.append(Problem.MODIFIED)
    return problems


async def _check_signature(embedded: Any, trust: TrustAnchors) -> SignatureReport:
    field_name = str(embedded.field_name)
    is_timestamp = embedded.sig_object_type == "/DocTimeStamp"
    try:
        name, serial, cert = _signer_facts(embedded.signer_cert)
        claimed = None if is_timestamp else _claimed_time(embedded)
        if is_timestamp:
            vc = validation_context(trust, retroactive=True)
            status: Any = await async_validate_pdf_timestamp(embedded, validation_context=vc)
            claimed = status.timestamp
        else:
            # Validate at the signer's claimed time: a device revoked later (lost after the
            # visit) keeps its earlier signatures; one revoked before that time fails.
            vc = validation_context(trust, moment=claimed, retroactive=True)
            status = await async_validate_pdf_signature(embedded, signer_validation_context=vc)
    except Exception as exc:  # a damaged signature must become a report, not a crash
        return SignatureReport(field_name, "timestamp" if is_timestamp else "signature", "", "",
                               None, False, False, False, None, None, (Problem.UNREADABLE,),
                               f"{type(exc).__name__}: {exc}")
    problems: list[Problem] = []
    if not status.intact or not status.valid:
        problems.append(Problem.INTEGRITY)
    elif not status.trusted:
        problems.append(_trust_problem(status, cert, claimed))
    mechanism = embedded.signer_info["signature_algorithm"]["algorithm"].native
    weak = (status.md_algorithm not in _STRONG_DIGESTS or certificate_profile_problems(cert)
            # Circular 15/2025: RSA signatures must use PSS.
            or mechanism in {"rsassa_pkcs1v15", "sha1_rsa", "sha256_rsa", "sha384_rsa",
                             "sha512_rsa"})
    if not is_timestamp and weak:
        problems.append(Problem.WEAK_ALGORITHM)
    problems.extend(_modification_problems(status))
    revoked_at = None
    if status.revocation_details is not None:
        revoked_at = status.revocation_details.revocation_date.isoformat()
    elif not is_timestamp:
        revoked_at = _revoked_later(cert, trust)
    level = status.modification_level
    return SignatureReport(
        field=field_name,
        kind="timestamp" if is_timestamp else "signature",
        signer=name,
        signer_serial=serial,
        claimed_time=claimed.isoformat() if claimed else None,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        revoked_at=revoked_at,
        modification=level.name if level is not None else None,
        problems=tuple(dict.fromkeys(problems)),
        detail=str(getattr(status.trust_problem_indic, "name", "") or ""),
    )


# ---------------------------------------------------------------------------------------------
# Embedded files


def embedded_files(reader: PdfFileReader) -> dict[str, bytes]:
    """Every file in the document's EmbeddedFiles name tree, by file name."""
    names = reader.root.get("/Names")
    if names is None:
        return {}
    tree = names.get_object().get("/EmbeddedFiles")
    found: dict[str, bytes] = {}

    def walk(node: Any) -> None:
        node = node.get_object()
        if "/Names" in node:
            entries = node["/Names"]
            for i in range(0, len(entries), 2):
                spec = entries[i + 1].get_object()
                found[str(entries[i])] = spec["/EF"]["/F"].get_object().data
        for kid in node.get("/Kids", ()):
            walk(kid)

    if tree is not None:
        walk(tree)
    return found


def check_contents(
    files: dict[str, bytes], expected: ExpectedDossier | None
) -> tuple[list[Problem], list[AttachmentReport]]:
    """Embedded files against the embedded manifest, and against the dossier when given."""
    try:
        manifest = json.loads(files[MANIFEST_NAME])
        claimed = {item["name"]: item["sha256"] for item in manifest["attachments"]}
        claimed[DOSSIER_JSON_NAME] = manifest["dossier_json_sha256"]
    except (KeyError, TypeError, ValueError):
        return [Problem.MANIFEST], []
    digests = {name: hashlib.sha256(data).hexdigest()
               for name, data in files.items() if name != MANIFEST_NAME}
    problems: list[Problem] = []
    if claimed != digests:
        problems.append(Problem.MANIFEST)
    wanted: dict[str, str] = {}
    if expected is not None:
        wanted = dict(expected.attachment_sha256)
        photos = {name: d for name, d in digests.items() if name != DOSSIER_JSON_NAME}
        if wanted != photos:
            problems.append(Problem.ATTACHMENT_MISMATCH)
        try:
            embedded_data = json.loads(files.get(DOSSIER_JSON_NAME, b""))
        except ValueError:
            embedded_data = None
        if embedded_data != expected.data:
            problems.append(Problem.DOSSIER_MISMATCH)
    reports = [
        AttachmentReport(
            name, len(files[name]), digest,
            matches=claimed.get(name) == digest and (
                expected is None or name == DOSSIER_JSON_NAME or wanted.get(name) == digest),
        )
        for name, digest in digests.items()
    ]
    return problems, reports


# ---------------------------------------------------------------------------------------------


def _unsigned_fields(reader: PdfFileReader) -> tuple[list[str], bool]:
    """Unsigned signature fields, and whether the citizen's field shows a drawing instead."""
    unsigned: list[str] = []
    drawn = False
    for name, value, ref in pdf_fields.enumerate_sig_fields(reader, filled_status=None):
        if value is not None:
            continue
        field = ref.get_object()
        if name == CITIZEN_FIELD and "/AP" in field:
            drawn = True
            continue
        unsigned.append(str(name))
    return unsigned, drawn


def _level(reader: PdfFileReader, reports: list[SignatureReport]) -> str:
    """The PAdES baseline level: revocation data alone (what the device embeds) is still B-B;
    a document timestamp over it makes B-LTA, without it B-T."""
    if not any(r.kind == "timestamp" for r in reports):
        return "PAdES-B-B"
    return "PAdES-B-LTA" if "/DSS" in reader.root else "PAdES-B-T"


async def _check_all(signatures: list[Any], trust: TrustAnchors) -> list[SignatureReport]:
    # One event loop for all signatures (pyHanko's sync wrappers start one per call).
    return [await _check_signature(sig, trust) for sig in signatures]


def verify_document(
    pdf: bytes, trust: TrustAnchors, expected: ExpectedDossier | None = None
) -> DocumentReport:
    """Check every signature and the embedded contents of a signed declaration or receipt."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = list(reader.embedded_signatures)
    except Exception as exc:  # not a PDF at all, or broken beyond reading
        return DocumentReport((), (), (Problem.UNREADABLE,), "", notes=(str(exc),))
    reports = asyncio.run(_check_all(signatures, trust))
    problems: list[Problem] = []
    if not any(r.kind == "signature" for r in reports):
        problems.append(Problem.NO_SIGNATURE)
    unsigned, drawn = _unsigned_fields(reader)
    if unsigned:
        problems.append(Problem.UNSIGNED_FIELD)
    files = embedded_files(reader)
    attachments: list[AttachmentReport] = []
    if files or expected is not None:
        content_problems, attachments = check_contents(files, expected)
        problems.extend(content_problems)
    notes: list[str] = [f"Ô chưa ký: {name}" for name in unsigned]
    notes += [
        f"Chứng thư của {r.signer} bị thu hồi lúc {r.revoked_at}, sau thời điểm ký."
        for r in reports
        if r.revoked_at and Problem.REVOKED not in r.problems
    ]
    return DocumentReport(
        signatures=tuple(reports),
        attachments=tuple(attachments),
        problems=tuple(dict.fromkeys(problems)),
        level=_level(reader, reports),
        drawn_signature=drawn,
        notes=tuple(notes),
    )

