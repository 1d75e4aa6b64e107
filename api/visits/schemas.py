"""What the visit routes take in and answer: msgspec Structs, decoded with Vietnamese errors."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, TypeVar

import msgspec

from api.errors import InvalidInput
from dossiers.models import Citizen, PriorityGroup, VisitStatus

T = TypeVar("T")
_AT_PATH = re.compile(r"^(?P<why>.*) - at `\$\.?(?P<path>[^`]*)`$")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<path>[^`]*)`")
_MISSING = re.compile(r"^Object missing required field `(?P<path>[^`]*)`")


class _Body(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class NewVisit(_Body, frozen=True):
    citizen: Citizen
    procedures: tuple[str, ...]
    priority_group: PriorityGroup
    officer_id: str
    planned_date: dt.date
    ward: str


class Schedule(_Body, frozen=True):
    planned_date: dt.date


class Assign(_Body, frozen=True):
    officer_id: str


class Cancel(_Body, frozen=True):
    reason: str


class VisitView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    citizen: Citizen
    procedures: tuple[str, ...]
    priority_group: PriorityGroup
    officer_id: str
    planned_date: dt.date
    ward: str | None
    status: VisitStatus
    cancel_reason: str | None


class VisitList(msgspec.Struct, frozen=True):
    items: list[VisitView]


def decode_body(data: Any, kind: type[T]) -> T:
    """`data` as `kind`, or a 400 naming the field at fault in Vietnamese."""
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as exc:
        raise InvalidInput(_explain(str(exc))) from None


def _explain(message: str) -> str:
    for pattern, words in ((_UNKNOWN, "không được chấp nhận"), (_MISSING, "bắt buộc phải có")):
        if found := pattern.match(message):
            path = found["path"]
            inner = _AT_PATH.match(message)
            if inner and inner["path"]:
                path = f"{inner['path']}.{path}"
            return f"Trường «{path}» {words}."
    if found := _AT_PATH.match(message):
        return f"Trường «{found['path'] or 'nội dung'}» không hợp lệ ({found['why']})."
    return f"Nội dung gửi lên không hợp lệ ({message})."
