"""A synced dossier, as the device captured it, mapped onto the declaration the citizen signs.

Guarantees:
- Pure: bytes and catalogue in, typed values out; reading files is the caller's business.
- A dossier is decoded with the domain's own model (`dossiers.models.Dossier`) and checked by
  the domain's own validation before anything is printed; any refusal is a `DossierRefused`
  whose Vietnamese message names the field at fault.
- The declaration shows every field of the procedure version's declaration, in catalogue
  order, under its Vietnamese label, with values as a person reads them: dates dd/mm/yyyy,
  choices by their labels, booleans Có/Không.
- The dossier's JSON is embedded byte for byte as given, with every file its checklist names,
  so the signatures cover exactly what syncs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
import re
from collections.abc import Mapping

import msgspec

from dossiers.calendar import WorkingCalendar, local_time
from dossiers.catalogue import EXEMPTION_LABELS, Catalogue, FormField, ProcedureVersion
from dossiers.errors import ValidationFailed
from dossiers.models import SEX_LABELS, Citizen, Dossier, FormValue
from dossiers.validation import validate_dossier
from field.errors import AttachmentMissing, DossierRefused
from signing import forms
from signing.verify import ExpectedDossier

YES, NO = "Có", "Không"
PLACE_LABELS = {"home": "Tại nhà người dân", "office": "Tại Bộ phận Một cửa"}
_RESERVED = {forms.DOSSIER_JSON_NAME, forms.MANIFEST_NAME}

__all__ = [
    "checked_dossier",
    "declaration_content",
    "decode_dossier",
    "dossier_code",
    "expected_dossier",
    "format_value",
    "photo_names",
]


# --- decoding and validation ------------------------------------------------------------

_AT = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _structure_problem(message: str) -> tuple[str, str | None]:
    """msgspec's English complaint as Vietnamese, with the dotted path of the field at fault."""
    match = _AT.match(message)
    what = match["what"] if match else message
    path = (match["path"] or "").lstrip(".").replace("].", "]") if match else ""
    if found := re.fullmatch(r"Object missing required field `(.+)`", what):
        name = _join(path, found[1])
        return f"thiếu trường «{name}».", name
    if found := re.fullmatch(r"Object contains unknown field `(.+)`", what):
        name = _join(path, found[1])
        return f"trường «{name}» không thuộc hồ sơ.", name
    if found := re.fullmatch(r"Expected `(.+?)`, got `(.+?)`", what):
        return f"trường «{path}» sai kiểu dữ liệu (cần {found[1]}, đang là {found[2]}).", path
    if found := re.fullmatch(r"Invalid (?:enum )?value (.+)", what):
        return f"trường «{path}» có giá trị {found[1]} không được phép.", path
    if path:
        return f"trường «{path}» không hợp lệ ({what}).", path
    return f"{what}.", None


def decode_dossier(raw: bytes) -> Dossier:
    """The dossier in `raw` (the synced JSON), or `DossierRefused` saying what is wrong."""
    try:
        document = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        byte = re.search(r"byte (\d+)", str(exc))
        at = f" (lỗi cú pháp ở byte thứ {byte[1]})" if byte else ""
        raise DossierRefused(f"tệp hồ sơ không phải JSON hợp lệ{at}.") from exc
    if not isinstance(document, dict):
        raise DossierRefused("tệp hồ sơ phải là một đối tượng JSON.")
    kind = document.get("type")
    if kind is None:
        raise DossierRefused("thiếu trường «type» (cần «dossier»).", field="type")
    if kind != "dossier":
        raise DossierRefused(
            f"tệp không phải hồ sơ (trường «type» là «{kind}», cần «dossier»).", field="type"
        )
    try:
        return msgspec.convert(document, type=Dossier)
    except msgspec.ValidationError as exc:
        problem, where = _structure_problem(str(exc))
        raise DossierRefused(f"hồ sơ không đúng cấu trúc: {problem}", field=where) from exc


def checked_dossier(
    raw: bytes, catalogue: Catalogue, *, today: dt.date, calendar: WorkingCalendar | None
) -> tuple[Dossier, ProcedureVersion]:
    """Decode and validate a dossier; return it with the procedure version it was filed under."""
    dossier = decode_dossier(raw)
    try:
        validate_dossier(dossier, catalogue, today=today, calendar=calendar)
    except ValidationFailed as exc:
        first = exc.errors[0].field if exc.errors else None
        listed = "".join(f"\n- {problem.message}" for problem in exc.errors)
        raise DossierRefused(f"hồ sơ chưa hợp lệ:{listed}", field=first) from exc
    version = catalogue.get(dossier.procedure_code).version_named(dossier.procedure_version)
    if version is None:  # validation refuses this first; kept for the type checker
        raise DossierRefused("phiên bản thủ tục không có trong danh mục.",
                             field="procedure_version")
    return dossier, version


# --- values as a person reads them ------------------------------------------------------


def _day(day: dt.date) -> str:
    return f"{day:%d/%m/%Y}"


def _moment(moment: dt.datetime) -> str:
    return f"{local_time(moment):%H:%M} ngày {local_time(moment):%d/%m/%Y}"


def _money(amount: int) -> str:
    return f"{amount:,} đồng".replace(",", ".")


def format_value(spec: FormField, value: FormValue | None) -> str:
    """One declared value for print; "" when the optional field was left empty."""
    if value is None or value == "":
        return ""
    if spec.type == "boolean":
        return YES if value is True else NO
    if spec.type == "choice":
        return next((c.label for c in spec.choices if c.value == value), str(value))
    try:
        if spec.type == "date" and isinstance(value, str):
            return _day(dt.date.fromisoformat(value))
        if spec.type == "datetime" and isinstance(value, str):
            moment = dt.datetime.fromisoformat(value)
            return _moment(moment) if moment.tzinfo is not None else str(value)
    except ValueError:  # unvalidated input: print it as given rather than fail
        return str(value)
    return str(value)


def _applicant_rows(citizen: Citizen) -> tuple[tuple[str, str], ...]:
    address = citizen.address
    return (
        ("Họ, chữ đệm, tên", citizen.full_name),
        ("Ngày, tháng, năm sinh", _day(citizen.birth_date)),
        ("Giới tính", SEX_LABELS[citizen.sex]),
        ("Số định danh cá nhân", citizen.identity_number),
        ("Nơi cư trú", f"{address.detail} (mã xã {address.commune_code}, "
                       f"mã tỉnh {address.province_code})"),
        ("Số điện thoại", citizen.phone or ""),
    )


def _declaration_rows(version: ProcedureVersion, dossier: Dossier) -> tuple[tuple[str, str], ...]:
    return tuple((spec.label, format_value(spec, dossier.form.get(spec.name)))
                 for spec in version.form)


def _checklist_rows(version: ProcedureVersion, dossier: Dossier) -> tuple[tuple[str, str], ...]:
    entries = {entry.code: entry for entry in dossier.documents}
    rows = []
    for requirement in version.documents:
        entry = entries.get(requirement.code)
        kind = "bắt buộc" if requirement.mandatory else "nếu có"
        if entry is None or not entry.provided:
            status = f"Chưa nộp ({kind})"
        else:
            status = f"Đã nộp ({kind}), {len(entry.attachments)} tệp: " + ", ".join(
                entry.attachments)
        rows.append((requirement.name, status))
    return tuple(rows)


def _fee_rows(dossier: Dossier) -> tuple[tuple[str, str], ...]:
    fee = dossier.fee
    rows = [("Lệ phí phải nộp", _money(fee.amount_vnd) if fee.amount_vnd else "Miễn lệ phí")]
    exemption = EXEMPTION_LABELS[fee.exemption] if fee.exemption else NO
    rows.append(("Đối tượng được miễn, giảm", exemption))
    if fee.on_time_exempt:
        rows.append(("Miễn lệ phí do đăng ký đúng hạn", YES))
    if fee.note:
        rows.append(("Ghi chú về lệ phí", fee.note))
    return tuple(rows)


def dossier_code(dossier: Dossier) -> str:
    """The code printed on the papers: the official one once the back office gave it."""
    return dossier.official_code or dossier.provisional_code


def _reception_rows(dossier: Dossier, officer: forms.Person) -> tuple[tuple[str, str], ...]:
    rows = [("Mã hồ sơ", dossier_code(dossier))]
    if dossier.official_code:
        rows.append(("Mã hồ sơ tạm trên thiết bị", dossier.provisional_code))
    rows += [
        ("Nơi tiếp nhận", PLACE_LABELS[dossier.place]),
        ("Thời điểm tiếp nhận", _moment(dossier.received_at)),
        ("Ngày hẹn trả kết quả", _day(dossier.appointment_date)),
        ("Cán bộ tiếp nhận", f"{officer.name} (mã cán bộ {dossier.officer_id})"),
    ]
    if dossier.needs_verification:
        rows.append(("Cần xác minh thêm", YES))
    return tuple(rows)


def _processing_time(version: ProcedureVersion, dossier: Dossier) -> str:
    limit = version.time_limit.for_form(dossier.form)
    if limit.kind == "same_day":
        return "Trong ngày làm việc"
    return f"{limit.working_days:02d} ngày làm việc"


# --- attachments ------------------------------------------------------------------------


def photo_names(dossier: Dossier) -> tuple[tuple[str, str], ...]:
    """(file name, what it shows) for every file the checklist names, in checklist order.

    Names must be plain, unique file names: they are read from one folder and become the
    names of the PDF's embedded files.
    """
    seen: set[str] = set()
    named = []
    for entry in dossier.documents:
        for page, name in enumerate(entry.attachments, start=1):
            where = f"documents.{entry.code}.attachments"
            plain = name and "/" not in name and "\\" not in name and name not in (".", "..")
            if not plain or name in _RESERVED:
                raise DossierRefused(f"tên tệp đính kèm «{name}» không hợp lệ.", field=where)
            if name in seen:
                raise DossierRefused(f"tệp đính kèm «{name}» bị lặp.", field=where)
            seen.add(name)
            suffix = f" — tệp {page}" if len(entry.attachments) > 1 else ""
            named.append((name, f"{entry.name}{suffix}"))
    return tuple(named)


def _mime(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _attachments(dossier: Dossier, photos: Mapping[str, bytes]) -> tuple[forms.Attachment, ...]:
    items = []
    for name, description in photo_names(dossier):
        if name not in photos:
            raise AttachmentMissing(f"thiếu tệp đính kèm «{name}».", field=name)
        items.append(forms.Attachment(name, photos[name], _mime(name), description))
    return tuple(items)


# --- the declaration --------------------------------------------------------------------


def declaration_content(
    dossier: Dossier,
    version: ProcedureVersion,
    *,
    dossier_json: bytes,
    photos: Mapping[str, bytes],
    officer: forms.Person,
) -> forms.DeclarationContent:
    """What the declaration and receipt print and embed for this dossier.

    `dossier_json` is the dossier exactly as it syncs; `photos` holds the files the checklist
    names, by name; `officer` is the officer whose device signs (its certificate's name).
    """
    applicant = dossier.applicant
    sections = (
        forms.Section("I. NGƯỜI YÊU CẦU", _applicant_rows(applicant)),
        forms.Section("II. NỘI DUNG KHAI", _declaration_rows(version, dossier)),
        forms.Section("III. THÀNH PHẦN HỒ SƠ", _checklist_rows(version, dossier)),
        forms.Section("IV. LỆ PHÍ", _fee_rows(dossier)),
        forms.Section("V. TIẾP NHẬN HỒ SƠ", _reception_rows(dossier, officer)),
    )
    return forms.DeclarationContent(
        title=f"TỜ KHAI {version.name.upper()}",
        procedure_name=version.name,
        dossier_code=dossier_code(dossier),
        agency=f"Bộ phận Một cửa — mã cơ quan {dossier.agency_code}",
        citizen=forms.Person(applicant.full_name, applicant.identity_number),
        officer=officer,
        sections=sections,
        received_at=local_time(dossier.received_at),
        appointment_date=dossier.appointment_date,
        dossier_json=dossier_json,
        attachments=_attachments(dossier, photos),
        place=applicant.address.detail if dossier.place == "home" else "",
        processing_time=_processing_time(version, dossier),
    )


def expected_dossier(
    dossier: Dossier, *, dossier_json: bytes, photos: Mapping[str, bytes]
) -> ExpectedDossier:
    """What a signed declaration of this dossier must embed: its data and its files' digests."""
    return ExpectedDossier(
        data=msgspec.json.decode(dossier_json),
        attachment_sha256={
            name: hashlib.sha256(photos[name]).hexdigest()
            for name, _ in photo_names(dossier)
            if name in photos
        },
    )
