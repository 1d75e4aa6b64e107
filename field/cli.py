"""`doorstep sign` and `doorstep verify` on the officer's device: the ceremony on a dossier.

Guarantees:
- `--dossier` takes the dossier exactly as it syncs (what `doorstep catalogue example CODE`
  prints). It is decoded and validated by `dossiers` before anything is rendered; a bad
  dossier (not JSON, not a dossier, failing validation, unknown procedure, a checklist file
  that cannot be read) ends with its Vietnamese message and exit status 2, no traceback.
- Files the checklist names are read from `--attachments-dir`, by default the dossier
  file's own folder.
- Secrets, options and the ceremony itself are `signing.cli`'s: nothing is copied here.
- signing's own declaration input (an object with `title` and `sections` and no `type`)
  is still accepted and handed to `signing.cli` unchanged, for tools that prepare one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import msgspec

from dossiers.calendar import default_calendar, local_time
from dossiers.catalogue import ProcedureVersion, load_catalogue
from dossiers.models import Dossier
from field import ceremony
from field.errors import AttachmentMissing, DossierRefused, FieldAgentError
from signing import forms, pades
from signing.cli import (
    JSON_OPTION,
    PDF_ARGUMENT,
    PKI_OPTION,
    CeremonyOptions,
    Failure,
    ceremony_options,
    load_dossier_file,
    run_ceremony,
    verify_and_exit,
)
from signing.errors import SigningError
from signing.verify import ExpectedDossier


class BadDossier(Failure):
    """Bad input: the message alone on stderr, exit status 2."""

    exit_code = 2


def _bad(exc: FieldAgentError) -> BadDossier:
    return BadDossier(f"Lỗi: {exc.message}")


@dataclass(frozen=True)
class _DossierFile:
    dossier: Dossier
    raw: bytes  # embedded verbatim: the signature covers exactly what syncs
    photos: dict[str, bytes]


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise BadDossier(f"Lỗi: không tìm thấy tệp hồ sơ {path}.") from exc
    except OSError as exc:
        raise BadDossier(f"Lỗi: không đọc được tệp hồ sơ {path}: {exc.strerror}.") from exc


def _is_declaration_input(raw: bytes) -> bool:
    """signing's own input shape: no synced document carries `title` and `sections`."""
    try:
        document = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return False
    return (isinstance(document, dict) and "type" not in document
            and "procedure_code" not in document and {"title", "sections"} <= set(document))


def _read_photos(dossier: Dossier, folder: Path) -> dict[str, bytes]:
    photos = {}
    for name, _description in ceremony.photo_names(dossier):
        try:
            photos[name] = (folder / name).read_bytes()
        except FileNotFoundError as exc:
            raise AttachmentMissing(
                f"không tìm thấy tệp đính kèm «{name}» trong thư mục {folder} "
                "(chỉ định thư mục bằng --attachments-dir).", field=name) from exc
        except OSError as exc:
            raise AttachmentMissing(
                f"không đọc được tệp đính kèm «{name}» trong thư mục {folder} "
                f"({exc.strerror}).", field=name) from exc
    return photos


def _today() -> dt.date:
    return local_time(dt.datetime.now(dt.UTC)).date()


def _folder(path: Path, attachments_dir: Path | None) -> Path:
    return attachments_dir if attachments_dir is not None else path.parent


def _load_checked(path: Path, raw: bytes,
                  attachments_dir: Path | None) -> tuple[_DossierFile, ProcedureVersion]:
    """For signing: decoded, validated as of today, its checklist files read."""
    try:
        dossier, version = ceremony.checked_dossier(
            raw, load_catalogue(), today=_today(), calendar=default_calendar())
        photos = _read_photos(dossier, _folder(path, attachments_dir))
    except FieldAgentError as exc:
        raise _bad(exc) from exc
    return _DossierFile(dossier, raw, photos), version


def _load_decoded(path: Path, raw: bytes, attachments_dir: Path | None) -> _DossierFile:
    """For verifying: decoded and its files read; whether it was valid is intake's question."""
    try:
        dossier = ceremony.decode_dossier(raw)
        photos = _read_photos(dossier, _folder(path, attachments_dir))
    except FieldAgentError as exc:
        raise _bad(exc) from exc
    return _DossierFile(dossier, raw, photos)


def _officer(signer: pades.Signer) -> forms.Person:
    """The officer as the device certificate names them (what the signature report shows)."""
    cert = signer.signing_cert  # load_pkcs12 and open_token refuse a signer without one
    subject: dict[str, Any] = cert.subject.native if cert is not None else {}
    return forms.Person(str(subject.get("common_name", "")))


_DOSSIER = click.option("--dossier", type=click.Path(path_type=Path, dir_okay=False),
                        required=True, help="The dossier JSON, as it syncs.")
_ATTACHMENTS = click.option(
    "--attachments-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="Folder holding the files the checklist names (default: the dossier's folder).")


@click.command("sign")
@_DOSSIER
@_ATTACHMENTS
@ceremony_options
def sign_command(dossier: Path, attachments_dir: Path | None, **options: Any) -> None:
    """Render the dossier's declaration; the citizen signs (certificate or drawing), the
    officer's device signs last and locks."""
    raw = _read(dossier)
    opts = CeremonyOptions(**options)
    if _is_declaration_input(raw):
        try:
            prepared, _expected = load_dossier_file(dossier)
        except SigningError as exc:
            raise Failure(f"Lỗi: {exc}") from exc
        content = run_ceremony(lambda _officer: prepared, opts)
    else:
        loaded, version = _load_checked(dossier, raw, attachments_dir)

        def content_for(signer: pades.Signer) -> forms.DeclarationContent:
            try:
                return ceremony.declaration_content(
                    loaded.dossier, version, dossier_json=loaded.raw, photos=loaded.photos,
                    officer=_officer(signer))
            except FieldAgentError as exc:
                raise _bad(exc) from exc

        content = run_ceremony(content_for, opts)
    click.echo(f"Đã ký hồ sơ {content.dossier_code}: {opts.out}")


@click.command("verify")
@PDF_ARGUMENT
@PKI_OPTION
@click.option("--dossier", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Compare the embedded data and files with this dossier (as it syncs).")
@_ATTACHMENTS
@JSON_OPTION
def verify_command(pdf: Path, pki_dir: Path, dossier: Path | None,
                   attachments_dir: Path | None, as_json: bool) -> None:
    """Check every signature, revocation, modifications and the embedded dossier."""
    expected: ExpectedDossier | None = None
    if dossier is not None:
        raw = _read(dossier)
        if _is_declaration_input(raw):
            try:
                expected = load_dossier_file(dossier)[1]
            except SigningError as exc:
                raise Failure(f"Lỗi: {exc}") from exc
        else:
            loaded = _load_decoded(dossier, raw, attachments_dir)
            expected = ceremony.expected_dossier(loaded.dossier, dossier_json=loaded.raw,
                                                 photos=loaded.photos)
    verify_and_exit(pdf, pki_dir, expected, as_json)


__all__ = ["BadDossier", "DossierRefused", "sign_command", "verify_command"]
