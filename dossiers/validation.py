"""Checking what people type: identity numbers, phones, declarations, whole dossiers.

Guarantees:
- Every check returns (or raises, in `ValidationFailed`) all the problems at once, each a
  `FieldProblem` whose Vietnamese message names the field by its label and the problem.
- Text is normalised to NFC before it is checked or stored; `search_key` folds case,
  accents and đ so "nguyen thi thu huong" finds "Nguyễn Thị Thu Hường".
- Identity numbers (số định danh cá nhân, 12 digits `PPP G YY NNNNNN`, no checksum):
  PPP a known province of birth registration or, first digit non-zero, a country code;
  the century/sex digit G gives year = (19 + G // 2) * 100 + YY and sex (even male, odd
  female), which must agree with what was entered and not lie in the future.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
import re
import unicodedata
from collections.abc import Mapping

import msgspec
import phonenumbers

from dossiers.calendar import WorkingCalendar, local_time
from dossiers.catalogue import Catalogue, FormField, ProcedureVersion
from dossiers.errors import DossierError, FieldProblem, ValidationFailed
from dossiers.fees import assess_fee
from dossiers.models import SEX_LABELS, Citizen, Dossier, FormValue, Visit

_ID_PATTERN = re.compile(r"^\d{12}$")
_COMMUNE_PATTERN = re.compile(r"^\d{5}$")


def normalise(text: str) -> str:
    """NFC, without surrounding whitespace: the form every stored text takes."""
    return unicodedata.normalize("NFC", text).strip()


def search_key(text: str) -> str:
    """An accent- and case-insensitive key: lower case, no diacritics, đ → d, single spaces."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def normalise_form(form: Mapping[str, FormValue]) -> dict[str, FormValue]:
    return {normalise(k): normalise(v) if isinstance(v, str) else v for k, v in form.items()}


# --- identity numbers -------------------------------------------------------------------


class IdentityNumber(msgspec.Struct, frozen=True):
    place_code: str
    born_abroad: bool
    birth_year: int
    sex: str


@functools.cache
def _provinces() -> tuple[frozenset[str], frozenset[str]]:
    raw = importlib.resources.files("dossiers").joinpath("provinces.json").read_bytes()
    data = msgspec.json.decode(raw)
    return frozenset(data["birth_registration"]["codes"]), frozenset(data["current"]["codes"])


def parse_identity_number(number: str) -> IdentityNumber:
    """Read the fields of a 12-digit number; raises DossierError when it is not one."""
    if not _ID_PATTERN.match(number):
        raise DossierError("phải gồm đúng 12 chữ số.", field="identity_number")
    place, gender_century, year = number[:3], int(number[3]), int(number[4:6])
    born_abroad = place[0] != "0"
    if not born_abroad and place not in _provinces()[0]:
        raise DossierError(f"mã nơi đăng ký khai sinh «{place}» không có trong danh sách tỉnh.")
    return IdentityNumber(
        place_code=place,
        born_abroad=born_abroad,
        birth_year=(19 + gender_century // 2) * 100 + year,
        sex="nam" if gender_century % 2 == 0 else "nu",
    )


def identity_problems(
    number: str,
    *,
    birth_date: dt.date | None,
    sex: str | None,
    today: dt.date,
    field: str = "identity_number",
    label: str = "Số định danh cá nhân",
) -> list[FieldProblem]:
    try:
        parsed = parse_identity_number(number)
    except DossierError as exc:
        return [FieldProblem(field, label, exc.message)]
    problems = []
    if parsed.birth_year > today.year:
        future = f"năm sinh suy ra ({parsed.birth_year}) ở tương lai."
        problems.append(FieldProblem(field, label, future))
    elif birth_date is not None and birth_date.year != parsed.birth_year:
        problems.append(
            FieldProblem(
                field,
                label,
                f"năm sinh suy ra ({parsed.birth_year}) không khớp với ngày sinh đã nhập "
                f"({birth_date:%d/%m/%Y}).",
            )
        )
    if sex is not None and sex != parsed.sex:
        problems.append(
            FieldProblem(
                field,
                label,
                f"chữ số giới tính chỉ {SEX_LABELS[parsed.sex]}, "
                f"nhưng giới tính đã nhập là {SEX_LABELS.get(sex, sex)}.",
            )
        )
    return problems


# --- phone numbers ----------------------------------------------------------------------


def normalise_phone(text: str, *, field: str = "phone", label: str = "Số điện thoại") -> str:
    """The number in E.164 (+84…); raises ValidationFailed when it is not a valid number."""
    try:
        parsed = phonenumbers.parse(normalise(text), "VN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed([FieldProblem(field, label, "không đọc được số.")]) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationFailed([FieldProblem(field, label, f"«{text}» không phải số hợp lệ.")])
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def _phone_problems(text: str, field: str, label: str) -> list[FieldProblem]:
    try:
        normalise_phone(text, field=field, label=label)
    except ValidationFailed as exc:
        return exc.errors
    return []


# --- citizens ---------------------------------------------------------------------------


def citizen_problems(
    citizen: Citizen, *, today: dt.date, prefix: str = "applicant"
) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if not normalise(citizen.full_name):
        problems.append(FieldProblem(f"{prefix}.full_name", "Họ và tên", "bắt buộc phải nhập."))
    if citizen.birth_date > today:
        problems.append(
            FieldProblem(f"{prefix}.birth_date", "Ngày sinh", "không được sau ngày hôm nay.")
        )
    problems += identity_problems(
        citizen.identity_number,
        birth_date=citizen.birth_date,
        sex=citizen.sex,
        today=today,
        field=f"{prefix}.identity_number",
    )
    if citizen.phone is not None:
        problems += _phone_problems(citizen.phone, f"{prefix}.phone", "Số điện thoại")
    problems += _address_problems(citizen, prefix)
    return problems


def _address_problems(citizen: Citizen, prefix: str) -> list[FieldProblem]:
    address = citizen.address
    problems = []
    if address.province_code not in _provinces()[1]:
        problems.append(
            FieldProblem(
                f"{prefix}.address.province_code",
                "Mã tỉnh, thành phố",
                f"«{address.province_code}» không thuộc 34 tỉnh, thành phố hiện hành.",
            )
        )
    if not _COMMUNE_PATTERN.match(address.commune_code):
        problems.append(
            FieldProblem(f"{prefix}.address.commune_code", "Mã xã, phường", "phải gồm 5 chữ số.")
        )
    if not normalise(address.detail):
        problems.append(
            FieldProblem(f"{prefix}.address.detail", "Địa chỉ", "bắt buộc phải nhập.")
        )
    return problems


# --- declarations -----------------------------------------------------------------------


def _date(value: FormValue) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _datetime(value: FormValue) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def _field_problem(spec: FormField, value: FormValue, today: dt.date) -> str | None:
    """What is wrong with one present value, in Vietnamese, or None."""
    kind = spec.type
    if kind in ("text", "identity_number", "phone"):
        if not isinstance(value, str):
            return "phải là chuỗi ký tự."
        if spec.max_length is not None and len(value) > spec.max_length:
            return f"không được dài quá {spec.max_length} ký tự."
        return None
    if kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            return "phải là số nguyên."
        low = spec.min if spec.min is not None else value
        high = spec.max if spec.max is not None else value
        return None if low <= value <= high else f"phải từ {spec.min} đến {spec.max}."
    if kind == "boolean":
        if not isinstance(value, bool):
            return "phải là có hoặc không."
        return "phải được xác nhận." if spec.must_be_true and not value else None
    if kind == "choice":
        allowed = [c.value for c in spec.choices]
        if value in allowed:
            return None
        return "phải là một trong: " + ", ".join(c.label for c in spec.choices) + "."
    if kind == "date":
        day = _date(value)
        if day is None:
            return "phải là ngày dạng YYYY-MM-DD."
        return "không được sau ngày hôm nay." if spec.not_future and day > today else None
    moment = _datetime(value)
    if moment is None:
        return "phải là thời điểm dạng YYYY-MM-DDTHH:MM kèm múi giờ."
    future = spec.not_future and moment.date() > today
    return "không được sau ngày hôm nay." if future else None


def form_problems(
    version: ProcedureVersion, form: Mapping[str, FormValue], *, today: dt.date
) -> list[FieldProblem]:
    """Every problem in a declaration, against the procedure version's field list."""
    problems: list[FieldProblem] = []
    known = {spec.name for spec in version.form}
    for name in sorted(set(form) - known):
        problems.append(FieldProblem(f"form.{name}", name, "không có trong tờ khai của thủ tục."))
    for spec in version.form:
        value = form.get(spec.name)
        where = f"form.{spec.name}"
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.required:
                problems.append(FieldProblem(where, spec.label, "bắt buộc phải nhập."))
            continue
        problem = _field_problem(spec, value, today)
        if problem is not None:
            problems.append(FieldProblem(where, spec.label, problem))
        elif spec.type == "identity_number" and isinstance(value, str):
            problems += _form_identity(spec, value, form, today)
        elif spec.type == "phone" and isinstance(value, str):
            problems += _phone_problems(value, where, spec.label)
    return problems


def _form_identity(
    spec: FormField, value: str, form: Mapping[str, FormValue], today: dt.date
) -> list[FieldProblem]:
    birth = _date(form.get(spec.birth_date_field or "", ""))
    sex = form.get(spec.sex_field or "")
    return identity_problems(
        value,
        birth_date=birth,
        # An invalid sex or date is reported on its own field; do not cross-check with it.
        sex=sex if isinstance(sex, str) and sex in SEX_LABELS else None,
        today=today,
        field=f"form.{spec.name}",
        label=spec.label,
    )


# --- dossiers ---------------------------------------------------------------------------


def dossier_problems(
    dossier: Dossier,
    catalogue: Catalogue,
    *,
    today: dt.date,
    calendar: WorkingCalendar | None = None,
) -> list[FieldProblem]:
    """Every problem in a dossier: procedure and place, applicant, declaration, checklist,
    fee and (given the calendar) the appointment date printed on the receipt."""
    try:
        procedure = catalogue.get(dossier.procedure_code)
    except DossierError as exc:
        return [FieldProblem("procedure_code", "Mã thủ tục", exc.message)]
    version = procedure.version_named(dossier.procedure_version)
    if version is None:
        return [
            FieldProblem(
                "procedure_version",
                "Phiên bản thủ tục",
                f"«{dossier.procedure_version}» không có trong danh mục.",
            )
        ]
    problems: list[FieldProblem] = []
    if dossier.place == "home" and not version.home_service.allowed:
        refused = "không được thực hiện tại nhà. " + version.home_service.basis
        problems.append(FieldProblem("place", "Nơi tiếp nhận", refused))
    problems += citizen_problems(dossier.applicant, today=today)
    form = form_problems(version, dossier.form, today=today)
    problems += form
    problems += checklist_problems(version, dossier)
    if dossier.received_at.tzinfo is None:
        problems.append(FieldProblem("received_at", "Thời điểm tiếp nhận", "phải kèm múi giờ."))
    elif not form:
        problems += _fee_problems(version, dossier)
        problems += _appointment_problems(version, dossier, calendar)
    return problems


def _fee_problems(version: ProcedureVersion, dossier: Dossier) -> list[FieldProblem]:
    fee = dossier.fee
    received_on = local_time(dossier.received_at).date()
    # A provincial rate is not national data: any non-negative amount is accepted for it.
    rate = fee.amount_vnd if version.fee.kind == "provincial" else None
    try:
        expected = assess_fee(
            version, dossier.form, received_on, exemption=fee.exemption, provincial_rate=rate
        )
    except ValidationFailed as exc:
        return exc.errors
    if fee.amount_vnd != expected.amount_vnd:
        return [
            FieldProblem(
                "fee.amount_vnd",
                "Lệ phí",
                f"phải là {expected.amount_vnd} đồng, đang ghi {fee.amount_vnd} đồng.",
            )
        ]
    return []


def _appointment_problems(
    version: ProcedureVersion, dossier: Dossier, calendar: WorkingCalendar | None
) -> list[FieldProblem]:
    received_on = local_time(dossier.received_at).date()
    if dossier.appointment_date < received_on:
        return [
            FieldProblem("appointment_date", "Ngày hẹn trả", "không được trước ngày tiếp nhận.")
        ]
    if calendar is None:
        return []
    due = calendar.due_date(
        dossier.received_at,
        version.time_limit.for_form(dossier.form),
        verification=dossier.needs_verification,
    )
    if dossier.appointment_date != due:
        return [
            FieldProblem(
                "appointment_date",
                "Ngày hẹn trả",
                f"theo thời hạn của thủ tục phải là {due:%d/%m/%Y}, "
                f"đang ghi {dossier.appointment_date:%d/%m/%Y}.",
            )
        ]
    return []


def home_start_problem(catalogue: Catalogue, code: str, on: dt.date) -> FieldProblem | None:
    """Why procedure `code` cannot be started at a citizen's home on `on`, or None."""
    try:
        version = catalogue.version(code, on)
    except DossierError as exc:
        return FieldProblem("procedures", "Thủ tục", exc.message)
    if version.home_service.allowed:
        return None
    return FieldProblem(
        "procedures",
        version.name,
        "không được thực hiện tại nhà. " + version.home_service.basis,
    )


def visit_problems(visit: Visit, catalogue: Catalogue, *, today: dt.date) -> list[FieldProblem]:
    """Every problem in a planned home visit: the citizen and each requested procedure."""
    problems = citizen_problems(visit.citizen, today=today, prefix="citizen")
    if not visit.procedures:
        problems.append(FieldProblem("procedures", "Thủ tục", "phải chọn ít nhất một thủ tục."))
    for code in visit.procedures:
        problem = home_start_problem(catalogue, code, visit.planned_date)
        if problem is not None:
            problems.append(problem)
    if visit.planned_date < today:
        problems.append(
            FieldProblem("planned_date", "Ngày hẹn đến nhà", "không được trước ngày hôm nay.")
        )
    return problems


def checklist_problems(version: ProcedureVersion, dossier: Dossier) -> list[FieldProblem]:
    problems = []
    listed = {entry.code: entry for entry in dossier.documents}
    required_codes = {d.code for d in version.documents}
    for code in sorted(set(listed) - required_codes):
        problems.append(
            FieldProblem(f"documents.{code}", code, "không có trong thành phần hồ sơ.")
        )
    for requirement in version.documents:
        entry = listed.get(requirement.code)
        if not requirement.mandatory:
            continue
        if entry is None or not entry.provided:
            problems.append(
                FieldProblem(f"documents.{requirement.code}", requirement.name, "còn thiếu.")
            )
        elif not entry.attachments:
            problems.append(
                FieldProblem(
                    f"documents.{requirement.code}", requirement.name, "chưa có tệp đính kèm."
                )
            )
    return problems


def validate_dossier(
    dossier: Dossier,
    catalogue: Catalogue,
    *,
    today: dt.date,
    calendar: WorkingCalendar | None = None,
) -> None:
    """Raise ValidationFailed listing every problem, if there is one."""
    problems = dossier_problems(dossier, catalogue, today=today, calendar=calendar)
    if problems:
        raise ValidationFailed(problems)
