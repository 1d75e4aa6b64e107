"""Pure handling decisions: who may ask, which event to write, which answer a refusal gets.

No I/O and no clock: the service hands in the dossier document, the register's state and
the time, and writes what these functions decide.

Guarantees:
- Only handlers and supervisors record back-office events; officers (who use their device)
  and administrators (who do not read citizens' dossiers) are refused with a reason.
- An event's id is `event:<dossier_id>:<kind>:<n>`, n = 1 + the events of that kind the
  dossier already has, so two people recording the same step at once collide on the id.
- An event's access is the dossier's access plus its procedure's handler queue: a
  supplement request reaches the officer's device at its next sync.
- A refusal by role is a 403, by state or rule a 409, each with the workflow's Vietnamese
  reason.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, get_args

from api.errors import ConflictError, InvalidInput, NotAllowed
from api.handling.schemas import EventRequest
from dossiers.models import SCHEMA_VERSION, Event, EventKind, Role
from dossiers.workflow import STATUS_LABELS, TRANSITIONS, DossierState, Refusal, Status

BACK_OFFICE_ROLES: tuple[Role, ...] = ("handler", "supervisor")
# `received` is intake's alone: the back office records every other step.
RECORDABLE: tuple[str, ...] = tuple(k for k in get_args(EventKind) if k != "received")
RESULT_PDF = "result.pdf"
RESULT_TYPE = "result"

NOT_BACK_OFFICE = ("Chỉ cán bộ xử lý hoặc lãnh đạo mới được ghi nhận bước xử lý hồ sơ; "
                   "cán bộ tiếp nhận ghi nhận trên thiết bị của mình, quản trị viên không "
                   "xử lý hồ sơ.")
NO_RESULT_YET = ("Chưa có kết quả đã đóng dấu: hãy tải lên tệp kết quả trước khi ghi nhận "
                 "có kết quả.")
ALREADY_RECORDED = ("Bước này vừa được người khác ghi nhận (đã có người ghi nhận); "
                    "hãy tải lại hồ sơ.")

SEAL_MESSAGES: dict[str, str] = {
    "not_pdf": "Tệp tải lên không phải tệp PDF.",
    "unreadable": "Không đọc được tệp PDF kết quả (tệp hỏng hoặc sai định dạng).",
    "encrypted": "Tệp PDF đang được đặt mật khẩu (mã hoá); hãy tải lên bản không mã hoá.",
    "no_page": "Tệp PDF kết quả không có trang nào.",
    "page_too_small": "Trang cuối của tệp kết quả quá nhỏ để đóng dấu.",
}


def back_office_role(role: str) -> Role:
    """The caller's role in the workflow, or a 403 for officers and administrators."""
    for allowed in BACK_OFFICE_ROLES:
        if role == allowed:
            return allowed
    raise NotAllowed(NOT_BACK_OFFICE)


def event_kind(text: str) -> EventKind:
    for kind in get_args(EventKind):
        if text == kind and kind in RECORDABLE:
            return kind  # type: ignore[no-any-return]
    raise InvalidInput(f"Loại sự kiện «{text}» không hợp lệ; chọn một trong: "
                       f"{', '.join(RECORDABLE)}.")


def event_id(dossier_id: str, kind: str, n: int) -> str:
    return f"event:{dossier_id}:{kind}:{n}"


def next_number(events: Iterable[Event], kind: str) -> int:
    return 1 + sum(1 for event in events if event.kind == kind)


def event_access(dossier_access: Iterable[str], procedure_code: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*dossier_access, f"queue:procedure:{procedure_code}"]))


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = unicodedata.normalize("NFC", value).strip()
    return cleaned or None


def build_event(dossier: Mapping[str, Any], dossier_id: str, request: EventRequest, *,
                actor: str, role: Role, at: dt.datetime, n: int) -> Event:
    """The event a request asks for, with its id, access and NFC text."""
    kind = event_kind(request.kind)
    missing = tuple(item for item in (_text(m) for m in request.missing) if item)
    return Event(
        access=event_access(_strings(dossier.get("access")), str(dossier["procedure_code"])),
        id=event_id(dossier_id, kind, n),
        dossier=str(dossier["provisional_code"]),
        kind=kind,
        at=at,
        actor=actor,
        role=role,
        reason=_text(request.reason),
        missing=missing,
        apology=_text(request.apology),
        new_appointment=request.new_appointment,
    )


def _strings(value: object) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list | tuple) else []


def refused(state: DossierState, event: Event, refusal: Refusal) -> Exception:
    """403 when the step exists in this state but not for this role, otherwise 409."""
    rule = TRANSITIONS.get((state.status, event.kind))
    if rule is not None and event.role not in rule[1]:
        return NotAllowed(refusal.reason)
    return ConflictError(refusal.reason)


def result_ready_refusal(has_result: bool) -> ConflictError | None:
    return None if has_result else ConflictError(NO_RESULT_YET)


def result_upload_refusal(state: DossierState | None) -> ConflictError | None:
    """Why a result may not be uploaded now: only once resolved, and before it is ready."""
    status = state.status if state is not None else None
    if status is Status.RESOLVED:
        return None
    if status in (Status.RESULT_READY, Status.RETURNED):
        return ConflictError("Kết quả đã được ghi nhận sẵn sàng trả; không thể thay thế.")
    where = f"«{STATUS_LABELS[status]}»" if status is not None else "«chưa tiếp nhận»"
    return ConflictError(f"Chỉ tải lên kết quả khi hồ sơ đã xử lý xong; hồ sơ đang ở trạng "
                         f"thái {where}.")


def result_document(dossier: Mapping[str, Any], dossier_id: str, *, official_code: str | None,
                    sealed_at: dt.datetime, sealed_by: str, authority: str,
                    certificate_serial: str) -> dict[str, Any]:
    """`result:<dossier_id>` without its attachment (the caller adds the sealed PDF)."""
    return {
        "_id": f"result:{dossier_id}", "type": RESULT_TYPE, "schema": SCHEMA_VERSION,
        "dossier_id": dossier_id, "dossier": str(dossier["provisional_code"]),
        "official_code": official_code, "sealed_at": sealed_at.isoformat(),
        "sealed_by": sealed_by, "seal_authority": authority,
        "seal_certificate": certificate_serial,
        "access": list(event_access(_strings(dossier.get("access")),
                                    str(dossier["procedure_code"]))),
    }
