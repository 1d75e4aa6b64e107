"""What a visit becomes after each back-office act: pure, no storage.

Guarantees: a new visit's text is NFC and its citizen, procedures (from the catalogue,
allowed at home on the planned day), planned date (not before today in Asia/Ho_Chi_Minh)
and ward (a 5-digit commune code) are checked, every problem listed at once
(`ValidationFailed`, 422). Its access is exactly `officer:<officer>` and `ward:<ward>`, so
the gateway serves it to that officer's device alone. A cancelled visit keeps its officer
and access (the device shows it, marked cancelled) and can be neither rescheduled nor
reassigned (`ConflictError`, 409, with the reason it was cancelled).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

import msgspec

from api.errors import ConflictError
from api.visits.schemas import NewVisit, VisitView
from dossiers.catalogue import Catalogue
from dossiers.errors import FieldProblem, ValidationFailed
from dossiers.models import Address, Citizen, Visit
from dossiers.validation import home_start_problem, normalise, normalise_phone, visit_problems

DOC_PREFIX = "visit:"
MAX_REASON = 500
_WARD = re.compile(r"^\d{5}$")


def doc_id(visit_id: str) -> str:
    return DOC_PREFIX + visit_id


def new_visit_id(today: dt.date) -> str:
    """Unique without coordination: the day and 40 random bits (a clash is a 409 retried)."""
    return f"{today:%y%m%d}-{secrets.token_hex(5)}"


def ward_of(visit: Visit) -> str | None:
    return next((p.removeprefix("ward:") for p in visit.access if p.startswith("ward:")), None)


def officer_problem(officer_id: str, role: str | None, disabled: bool) -> FieldProblem | None:
    """Why `officer_id` cannot be given visits (`role` None: no such user), or None."""
    label = "Cán bộ tiếp nhận"
    if role is None:
        return FieldProblem("officer_id", label, f"không có người dùng «{officer_id}».")
    if role != "officer":
        return FieldProblem("officer_id", label, f"«{officer_id}» không phải cán bộ tiếp nhận.")
    if disabled:
        return FieldProblem("officer_id", label, f"tài khoản «{officer_id}» đã bị khoá.")
    return None


def _clean_citizen(citizen: Citizen) -> Citizen:
    address = citizen.address
    return msgspec.structs.replace(
        citizen, full_name=normalise(citizen.full_name),
        identity_number=normalise(citizen.identity_number),
        address=Address(detail=normalise(address.detail),
                        commune_code=normalise(address.commune_code),
                        province_code=normalise(address.province_code)),
        phone=normalise(citizen.phone) if citizen.phone is not None else None)


def plan_visit(request: NewVisit, visit_id: str, catalogue: Catalogue, today: dt.date,
               officer: FieldProblem | None) -> Visit:
    """The visit to store, or ValidationFailed listing every problem in the request."""
    ward = normalise(request.ward)
    visit = Visit(access=(f"officer:{request.officer_id}", f"ward:{ward}"), id=visit_id,
                  citizen=_clean_citizen(request.citizen),
                  procedures=tuple(dict.fromkeys(normalise(p) for p in request.procedures)),
                  priority_group=request.priority_group, officer_id=request.officer_id,
                  planned_date=request.planned_date)
    problems = visit_problems(visit, catalogue, today=today)
    if not _WARD.match(ward):
        problems.append(FieldProblem("ward", "Mã xã, phường", "phải gồm 5 chữ số."))
    if officer is not None:
        problems.append(officer)
    if problems:
        raise ValidationFailed(problems)
    phone = visit.citizen.phone
    if phone is not None:  # stored in E.164, once known to be valid
        citizen = msgspec.structs.replace(visit.citizen, phone=normalise_phone(phone))
        visit = msgspec.structs.replace(visit, citizen=citizen)
    return visit


def _refuse_if_cancelled(visit: Visit, act: str) -> None:
    if visit.status == "cancelled":
        raise ConflictError(f"Không thể {act}: lượt đến nhà đã bị huỷ "
                            f"(lý do: {visit.cancel_reason or 'không ghi'}).")


def rescheduled(visit: Visit, planned_date: dt.date, catalogue: Catalogue,
                today: dt.date) -> Visit:
    _refuse_if_cancelled(visit, "đổi ngày hẹn")
    problems = []
    if planned_date < today:
        problems.append(
            FieldProblem("planned_date", "Ngày hẹn đến nhà", "không được trước ngày hôm nay."))
    for code in visit.procedures:
        problem = home_start_problem(catalogue, code, planned_date)
        if problem is not None:
            problems.append(problem)
    if problems:
        raise ValidationFailed(problems)
    return msgspec.structs.replace(visit, planned_date=planned_date)


def reassigned(visit: Visit, officer_id: str, officer: FieldProblem | None) -> Visit:
    """The visit with its officer and access moved; the ward and other principals stay."""
    _refuse_if_cancelled(visit, "giao lại cho cán bộ khác")
    if officer is not None:
        raise ValidationFailed([officer])
    access = tuple(p for p in visit.access if not p.startswith("officer:"))
    return msgspec.structs.replace(visit, officer_id=officer_id,
                                   access=(f"officer:{officer_id}", *access))


def cancelled(visit: Visit, reason: str) -> Visit:
    if visit.status == "cancelled":
        raise ConflictError(f"Lượt đến nhà đã bị huỷ trước đó "
                            f"(lý do: {visit.cancel_reason or 'không ghi'}).")
    text = normalise(reason)
    if not text or len(text) > MAX_REASON:
        raise ValidationFailed([FieldProblem(
            "reason", "Lý do huỷ", f"bắt buộc, tối đa {MAX_REASON} ký tự.")])
    return msgspec.structs.replace(visit, status="cancelled", cancel_reason=text)


def view(visit: Visit) -> VisitView:
    return VisitView(id=visit.id, citizen=visit.citizen, procedures=visit.procedures,
                     priority_group=visit.priority_group, officer_id=visit.officer_id,
                     planned_date=visit.planned_date, ward=ward_of(visit), status=visit.status,
                     cancel_reason=visit.cancel_reason)
