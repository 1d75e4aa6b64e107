"""`doorstep pki …`, `doorstep sign`, `doorstep verify`: a thin edge around the signing library.

Guarantees: secrets come only from a file, an environment variable or a terminal prompt — never
from an argument — and are never echoed or logged; bad input ends with a message and a
non-zero exit, never a traceback; `verify` exits 0 only when every check holds.

The ceremony (`ceremony_options`, `run_ceremony`) and `verify_and_exit` are shared with the
device's `doorstep sign` and `verify` in field/cli.py, which feed them the synced dossier;
this module knows nothing of `dossiers` or `field`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import msgspec

from signing import forms, pades, pki
from signing.errors import SecretError, SigningError
from signing.verify import MESSAGES, DocumentReport, ExpectedDossier, verify_document

# Names of environment variables (not secrets themselves).
PASSPHRASE_ENV = "DOORSTEP_PASSPHRASE"  # noqa: S105
P12_PASSWORD_ENV = "DOORSTEP_P12_PASSWORD"  # noqa: S105
CITIZEN_PASSWORD_ENV = "DOORSTEP_CITIZEN_PASSWORD"  # noqa: S105
CITIZEN_PIN_ENV = "DOORSTEP_CITIZEN_PIN"


def read_secret(file: Path | None, env: str, prompt: str) -> bytes:
    """A secret from a file, else the environment, else a hidden prompt on a terminal."""
    if file is not None:
        try:
            value = file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise SecretError(f"cannot read the secret file {file}: {exc.strerror}") from exc
    elif os.environ.get(env):
        value = os.environ[env]
    elif sys.stdin.isatty():
        value = click.prompt(prompt, hide_input=True)
    else:
        raise SecretError(f"no secret given: use a file option, ${env}, or run on a terminal")
    if not value:
        raise SecretError("the secret is empty")
    return value.encode("utf-8")


class Failure(click.ClickException):
    """A refusal shown to a person as its Vietnamese message alone: click's own `show()`
    would prefix "Error: ", doubling the "Lỗi: " the message already starts with."""

    def show(self, file: Any = None) -> None:
        click.echo(self.format_message(), file=file, err=True)


def _fail(exc: Exception) -> Failure:
    return Failure(f"Lỗi: {exc}")


# ---------------------------------------------------------------------------------------------
# The dossier file read by `sign` and `verify --dossier`


class _PersonIn(msgspec.Struct):
    name: str
    id_number: str = ""
    title: str = ""


class _SectionIn(msgspec.Struct):
    heading: str
    rows: list[tuple[str, str]]


class _AttachmentIn(msgspec.Struct):
    name: str
    path: str
    mime: str
    description: str = ""


class DossierFile(msgspec.Struct):
    """The declaration input: what to print, the dossier data, attachment files by path."""

    title: str
    procedure_name: str
    dossier_code: str
    agency: str
    citizen: _PersonIn
    officer: _PersonIn
    sections: list[_SectionIn]
    received_at: dt.datetime
    appointment_date: dt.date
    data: dict[str, Any]
    attachments: list[_AttachmentIn] = []
    place: str = ""
    processing_time: str = ""


def load_dossier_file(path: Path) -> tuple[forms.DeclarationContent, ExpectedDossier]:
    try:
        spec = msgspec.json.decode(path.read_bytes(), type=DossierFile)
    except OSError as exc:
        raise SigningError(f"cannot read {path}: {exc.strerror}") from exc
    except msgspec.ValidationError as exc:
        raise SigningError(f"{path} is not a valid dossier file: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise SigningError(f"{path} is not JSON: {exc}") from exc
    attachments = []
    for item in spec.attachments:
        file = (path.parent / item.path).resolve()
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise SigningError(f"attachment {item.name}: cannot read {file}") from exc
        attachments.append(forms.Attachment(item.name, data, item.mime, item.description))
    content = forms.DeclarationContent(
        title=spec.title,
        procedure_name=spec.procedure_name,
        dossier_code=spec.dossier_code,
        agency=spec.agency,
        citizen=forms.Person(spec.citizen.name, spec.citizen.id_number, spec.citizen.title),
        officer=forms.Person(spec.officer.name, spec.officer.id_number, spec.officer.title),
        sections=tuple(forms.Section(s.heading, tuple(s.rows)) for s in spec.sections),
        received_at=spec.received_at,
        appointment_date=spec.appointment_date,
        dossier_json=json.dumps(spec.data, ensure_ascii=False, sort_keys=True).encode("utf-8"),
        attachments=tuple(attachments),
        place=spec.place,
        processing_time=spec.processing_time,
    )
    expected = ExpectedDossier(
        data=spec.data,
        attachment_sha256={a.name: hashlib.sha256(a.data).hexdigest() for a in attachments},
    )
    return content, expected


# ---------------------------------------------------------------------------------------------
# doorstep pki


_DIR = click.option("--dir", "directory", type=click.Path(path_type=Path), required=True,
                    help="District PKI directory.")
_PASS = click.option("--passphrase-file", type=click.Path(path_type=Path), default=None,
                     help=f"File holding the CA passphrase (else ${PASSPHRASE_ENV} or a prompt).")


@click.group("pki")
def pki_group() -> None:
    """District PKI: root and issuing CA, TSA, device certificates, CRLs."""


@pki_group.command("init")
@_DIR
@click.option("--name", required=True, help="District name, in Vietnamese.")
@click.option("--offline-days", type=click.IntRange(1, 365), default=pki.DEFAULT_OFFLINE_DAYS,
              show_default=True, help="Longest offline period a device's CRL must cover.")
@click.option("--crl-url", default=None, help="Base URL written in CRL distribution points.")
@_PASS
def pki_init(directory: Path, name: str, offline_days: int, crl_url: str | None,
             passphrase_file: Path | None) -> None:
    """Create the root CA, issuing CA, TSA certificate and empty CRLs."""
    try:
        secret = read_secret(passphrase_file, PASSPHRASE_ENV, "Mật khẩu khoá CA")
        district = pki.init_pki(directory, name, secret, offline_days=offline_days,
                                crl_url=crl_url)
    except SigningError as exc:
        raise _fail(exc) from exc
    click.echo(f"Đã tạo PKI cho {district.state.name} tại {directory}")


@pki_group.command("issue-device")
@_DIR
@click.option("--officer", "officer_id", required=True, help="Officer id.")
@click.option("--officer-name", required=True, help="Officer's full name, in Vietnamese.")
@click.option("--device", "device_id", required=True, help="Device id.")
@click.option("--csr", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The device's PKCS#10 request (its key never leaves the device).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write a new key and certificate as PKCS#12 (.p12) here instead.")
@click.option("--cert-out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Where to write the certificate (PEM) for --csr.")
@_PASS
@click.option("--p12-password-file", type=click.Path(path_type=Path), default=None,
              help=f"File holding the .p12 password (else ${P12_PASSWORD_ENV} or a prompt).")
def pki_issue_device(directory: Path, officer_id: str, officer_name: str, device_id: str,
                     csr: Path | None, out: Path | None, cert_out: Path | None,
                     passphrase_file: Path | None, p12_password_file: Path | None) -> None:
    """Issue an officer's device certificate (ECDSA P-256, non-repudiation)."""
    if (csr is None) == (out is None):
        raise click.UsageError("give exactly one of --csr FILE or --out FILE.p12")
    try:
        district = pki.DistrictPki.open(directory)
        secret = read_secret(passphrase_file, PASSPHRASE_ENV, "Mật khẩu khoá CA")
        p12_password = b""
        if out is not None:
            p12_password = read_secret(p12_password_file, P12_PASSWORD_ENV, "Mật khẩu tệp .p12")
        csr_bytes = csr.read_bytes() if csr is not None else None
        issued = district.issue_device(secret, officer_id=officer_id, officer_name=officer_name,
                                       device_id=device_id, csr_pem=csr_bytes)
        if out is not None and issued.key is not None:
            chain = [district.issuing_cert, district.root_cert]
            out.write_bytes(pki.pkcs12_bundle(issued.certificate, issued.key, chain, p12_password,
                                              friendly_name=device_id))
        else:
            from cryptography.hazmat.primitives.serialization import Encoding

            target = cert_out or (directory / "devices" / f"{issued.serial_hex}.pem")
            target.write_bytes(issued.certificate.public_bytes(Encoding.PEM))
    except (SigningError, OSError) as exc:
        raise _fail(exc) from exc
    click.echo(f"Đã cấp chứng thư số {issued.serial_hex} cho cán bộ {officer_id}, "
               f"thiết bị {device_id}")


@pki_group.command("revoke")
@_DIR
@click.argument("serial")
@click.option("--reason", type=click.Choice(sorted(pki.REVOCATION_REASONS)), required=True)
@_PASS
def pki_revoke(directory: Path, serial: str, reason: str, passphrase_file: Path | None) -> None:
    """Revoke a certificate by its serial (hex) and publish fresh CRLs."""
    try:
        district = pki.DistrictPki.open(directory)
        number = pki.parse_serial(serial)
        secret = read_secret(passphrase_file, PASSPHRASE_ENV, "Mật khẩu khoá CA")
        revocation = district.revoke(secret, number, reason)
    except SigningError as exc:
        raise _fail(exc) from exc
    click.echo(f"Đã thu hồi chứng thư {revocation.serial} ({reason}); CRL số "
               f"{district.state.crl_number} đã được phát hành: {district.layout.reference}")


@pki_group.command("crl")
@_DIR
@_PASS
def pki_crl(directory: Path, passphrase_file: Path | None) -> None:
    """Publish fresh CRLs (before the current ones expire)."""
    try:
        district = pki.DistrictPki.open(directory)
        district.publish_crls(read_secret(passphrase_file, PASSPHRASE_ENV, "Mật khẩu khoá CA"))
    except SigningError as exc:
        raise _fail(exc) from exc
    click.echo(f"Đã phát hành CRL số {district.state.crl_number}")


# ---------------------------------------------------------------------------------------------
# doorstep sign


def _trust_for_device(crl: Path | None, pki_dir: Path | None) -> pki.TrustAnchors:
    if crl is None and pki_dir is None:
        raise SigningError("give the device's CRL reference document (--crl) or --pki DIR")
    path = crl if crl is not None else pki.PkiLayout(Path(str(pki_dir))).reference
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise SigningError(f"cannot read the CRL reference document {path}: {exc}") from exc
    return pki.TrustAnchors.from_reference(document)


# The ceremony's options, shared with the device's `doorstep sign` (field/cli.py), which
# reads the synced dossier instead of this package's declaration input.
_CEREMONY_OPTIONS = (
    click.option("--device", type=click.Path(path_type=Path, dir_okay=False), required=True,
                 help="The officer device's PKCS#12 file."),
    click.option("--citizen-p12", type=click.Path(path_type=Path, dir_okay=False), default=None),
    click.option("--citizen-drawing", type=click.Path(path_type=Path, dir_okay=False),
                 default=None),
    click.option("--citizen-token", default=None, help="Label of the citizen's PKCS#11 token."),
    click.option("--pkcs11-module", default=None,
                 help="PKCS#11 module (.so) for --citizen-token."),
    click.option("--citizen-key-label", default=None,
                 help="Key (and certificate) label on the token."),
    click.option("--citizen-pin-file", type=click.Path(path_type=Path), default=None,
                 help=f"Token PIN file (else ${CITIZEN_PIN_ENV} or a prompt)."),
    click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True),
    click.option("--receipt-out", type=click.Path(path_type=Path, dir_okay=False), default=None,
                 help="Also write the receipt, signed by the officer."),
    click.option("--crl", type=click.Path(path_type=Path, dir_okay=False), default=None,
                 help="The CRL reference document the device holds (crl-reference.json)."),
    click.option("--pki", "pki_dir", type=click.Path(path_type=Path, file_okay=False),
                 default=None),
    click.option("--device-password-file", type=click.Path(path_type=Path), default=None,
                 help=f"Device .p12 password file (else ${P12_PASSWORD_ENV} or a prompt)."),
    click.option("--citizen-password-file", type=click.Path(path_type=Path), default=None,
                 help=f"Citizen .p12 password file (else ${CITIZEN_PASSWORD_ENV} or a prompt)."),
)


def ceremony_options(command: Callable[..., None]) -> Callable[..., None]:
    """Add the ceremony's options (everything but the input document) to a command."""
    for option in reversed(_CEREMONY_OPTIONS):
        command = option(command)
    return command


@dataclass(frozen=True)
class CeremonyOptions:
    """The parsed ceremony options, as `ceremony_options` names them."""

    device: Path
    out: Path
    citizen_p12: Path | None = None
    citizen_drawing: Path | None = None
    citizen_token: str | None = None
    pkcs11_module: str | None = None
    citizen_key_label: str | None = None
    citizen_pin_file: Path | None = None
    receipt_out: Path | None = None
    crl: Path | None = None
    pki_dir: Path | None = None
    device_password_file: Path | None = None
    citizen_password_file: Path | None = None


# What to print, given the officer's signer (whose certificate names the officer).
ContentFor = Callable[[pades.Signer], forms.DeclarationContent]


def run_ceremony(content_for: ContentFor, opts: CeremonyOptions) -> forms.DeclarationContent:
    """Render, have the citizen sign (certificate or drawing), officer signs last and locks."""
    if sum(x is not None for x in (opts.citizen_p12, opts.citizen_drawing,
                                   opts.citizen_token)) > 1:
        raise click.UsageError("give one of --citizen-p12, --citizen-token, --citizen-drawing")
    if opts.citizen_token is not None and (opts.pkcs11_module is None
                                           or opts.citizen_key_label is None):
        raise click.UsageError("--citizen-token needs --pkcs11-module and --citizen-key-label")
    try:
        with contextlib.ExitStack() as stack:
            trust = _trust_for_device(opts.crl, opts.pki_dir)
            officer = pades.load_pkcs12(
                opts.device.read_bytes(),
                read_secret(opts.device_password_file, P12_PASSWORD_ENV,
                            "Mật khẩu tệp .p12 thiết bị"),
            )
            content = content_for(officer)
            citizen = _citizen_signer(stack, opts.citizen_p12, opts.citizen_password_file,
                                      opts.citizen_token, opts.pkcs11_module,
                                      opts.citizen_key_label, opts.citizen_pin_file)
            drawing = (opts.citizen_drawing.read_bytes() if opts.citizen_drawing is not None
                       else None)
            signed = pades.sign_declaration(forms.render_declaration(content), officer, trust,
                                            citizen=citizen, drawing=drawing,
                                            location=content.place)
            opts.out.write_bytes(signed)
            if opts.receipt_out is not None:
                receipt = pades.sign_receipt(forms.render_receipt(content), officer, trust)
                opts.receipt_out.write_bytes(receipt)
    except (SigningError, OSError) as exc:
        raise _fail(exc) from exc
    return content


@click.command("sign")
@click.option("--dossier", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="The declaration input (title, sections, data, attachments).")
@ceremony_options
def sign_command(dossier: Path, **options: Any) -> None:
    """Render, have the citizen sign (certificate or drawing), officer signs last and locks."""
    try:
        content, _expected = load_dossier_file(dossier)
    except SigningError as exc:
        raise _fail(exc) from exc
    run_ceremony(lambda _officer: content, CeremonyOptions(**options))
    click.echo(f"Đã ký hồ sơ {content.dossier_code}: {options['out']}")


def _citizen_signer(
    stack: contextlib.ExitStack[bool | None],
    p12: Path | None,
    password_file: Path | None,
    token: str | None,
    module: str | None,
    key_label: str | None,
    pin_file: Path | None,
) -> pades.Signer | None:
    """The citizen's signer from a .p12 file or a PKCS#11 token; None means a drawing."""
    if p12 is not None:
        password = read_secret(password_file, CITIZEN_PASSWORD_ENV,
                               "Mật khẩu chứng thư số của người dân")
        return pades.load_pkcs12(p12.read_bytes(), password)
    if token is not None:
        pin = read_secret(pin_file, CITIZEN_PIN_ENV, "Mã PIN thiết bị ký số")
        return stack.enter_context(
            pades.open_token(str(module), token, pin.decode("utf-8"), key_label=str(key_label))
        )
    return None


# ---------------------------------------------------------------------------------------------
# doorstep verify


_MODIFICATIONS = {
    "NONE": "không có",
    "LTA_UPDATES": "chỉ bổ sung dữ liệu kiểm tra dài hạn (được phép)",
    "FORM_FILLING": "chỉ ký/điền ô biểu mẫu (được phép)",
    "ANNOTATIONS": "thêm chú thích",
    "OTHER": "sửa đổi khác",
}
_VIETNAM = dt.timezone(dt.timedelta(hours=7))


def _local_time(iso: str | None) -> str:
    if not iso:
        return "—"
    moment = dt.datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        return iso
    return f"{moment.astimezone(_VIETNAM):%H:%M:%S ngày %d/%m/%Y} (giờ Việt Nam)"


def render_report(report: DocumentReport) -> str:
    """The report in Vietnamese, for a person."""
    lines = [f"Kết quả: {'HỢP LỆ' if report.ok else 'KHÔNG HỢP LỆ'} ({report.level})"]
    for sig in report.signatures:
        kind = "Dấu thời gian" if sig.kind == "timestamp" else "Chữ ký"
        lines.append(f"- {kind} [{sig.field}] của {sig.signer or '?'}: "
                     f"{'hợp lệ' if sig.ok else 'KHÔNG hợp lệ'}")
        claim = "thời điểm đóng dấu" if sig.kind == "timestamp" else "thời điểm ký (tự khai)"
        lines.append(f"    {claim}: {_local_time(sig.claimed_time)}")
        lines.append(f"    toàn vẹn: {'có' if sig.intact and sig.valid else 'không'}; "
                     f"tin cậy: {'có' if sig.trusted else 'không'}; "
                     f"sửa đổi sau khi ký: {_MODIFICATIONS.get(sig.modification or '', '—')}")
        revoked = (f"đã thu hồi lúc {_local_time(sig.revoked_at)}" if sig.revoked_at
                   else "chưa bị thu hồi")
        lines.append(f"    chứng thư số {sig.signer_serial or '?'}: {revoked}")
        lines += [f"    ✗ {MESSAGES[p]}" for p in sig.problems]
    if report.drawn_signature:
        lines.append("- Người khai ký tay trên thiết bị (chữ ký hình ảnh).")
    for item in report.attachments:
        lines.append(f"- Tệp đính kèm {item.name}: {item.size} byte, "
                     f"{'khớp' if item.matches else 'KHÔNG khớp'}")
    lines += [f"✗ {MESSAGES[p]}" for p in report.problems]
    lines += [f"Ghi chú: {note}" for note in report.notes]
    return "\n".join(lines)


def verify_and_exit(pdf: Path, pki_dir: Path, expected: ExpectedDossier | None,
                    as_json: bool) -> None:
    """Print the report on `pdf` and exit 0 only when every check holds."""
    try:
        trust = pki.DistrictPki.open(pki_dir).trust()
        data = pdf.read_bytes()
    except (SigningError, OSError) as exc:
        raise _fail(exc) from exc
    report = verify_document(data, trust, expected)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_report(report))
    sys.exit(0 if report.ok else 1)


PDF_ARGUMENT = click.argument("pdf", type=click.Path(path_type=Path, dir_okay=False))
PKI_OPTION = click.option("--pki", "pki_dir", type=click.Path(path_type=Path, file_okay=False),
                          required=True, help="District PKI directory (roots, CRLs, trust/).")
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


@click.command("verify")
@PDF_ARGUMENT
@PKI_OPTION
@click.option("--dossier", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Compare the embedded data and attachments with this dossier file.")
@JSON_OPTION
def verify_command(pdf: Path, pki_dir: Path, dossier: Path | None, as_json: bool) -> None:
    """Check every signature, revocation, modifications and the embedded dossier."""
    try:
        expected = load_dossier_file(dossier)[1] if dossier is not None else None
    except (SigningError, OSError) as exc:
        raise _fail(exc) from exc
    verify_and_exit(pdf, pki_dir, expected, as_json)
