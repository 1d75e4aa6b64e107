"""What a handler asks of the register (`DossierQuery`) and what it answers (`Page`).

A query is a frozen value: every filter is optional and they combine with AND. `cursor`
is the opaque keyset position a previous `Page` answered; `limit` bounds a page.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterable
from typing import Any

import msgspec

from api.errors import InvalidInput
from api.register.rows import RegisterRow

MAX_LIMIT = 200


class DossierQuery(msgspec.Struct, frozen=True, kw_only=True):
    status: tuple[str, ...] = ()
    procedure: str | None = None
    officer: str | None = None
    ward: str | None = None
    received_from: dt.date | None = None
    received_to: dt.date | None = None
    due_from: dt.date | None = None
    due_to: dt.date | None = None
    overdue: bool | None = None
    due_within_days: int | None = None  # working days from the query's day
    text: str | None = None  # name or identity number, accent-insensitive
    cursor: str | None = None
    limit: int = 50


class Page(msgspec.Struct, frozen=True, kw_only=True):
    rows: list[RegisterRow]
    next_cursor: str | None = None


# --- cursors ------------------------------------------------------------------------------

# Rows without a due date sort after every dated row (SQLite would put NULL first).
NO_DUE = "9999-12-31"
_CURSOR_VERSION = 1


def due_key(due: dt.date | None) -> str:
    return due.isoformat() if due is not None else NO_DUE


def encode_cursor(key: str, dossier_id: str) -> str:
    """The keyset position after (due key, dossier id), opaque to callers."""
    raw = msgspec.json.encode([_CURSOR_VERSION, key, dossier_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        version, key, dossier_id = msgspec.json.decode(raw, type=tuple[int, str, str])
    except (ValueError, msgspec.DecodeError) as exc:
        raise InvalidInput(_bad("cursor", "không phải con trỏ trang do máy chủ trả về")) from exc
    if version != _CURSOR_VERSION:
        raise InvalidInput(_bad("cursor", "con trỏ trang đã cũ, hãy tải lại danh sách"))
    return key, dossier_id


# --- HTTP query parameters ----------------------------------------------------------------

PARAMETERS = ("status", "procedure", "officer", "ward", "received_from", "received_to",
              "due_from", "due_to", "overdue", "due_within", "q", "cursor", "limit")
_SINGLE = tuple(p for p in PARAMETERS if p != "status")


def _bad(name: str, why: str) -> str:
    return f"Tham số «{name}» không hợp lệ: {why}."


def _day(name: str, text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(_bad(name, f"«{text}» không phải ngày dạng YYYY-MM-DD")) from exc


def _whole(name: str, text: str, low: int, high: int) -> int:
    if not text.isdigit() or not low <= int(text) <= high:
        raise InvalidInput(_bad(name, f"phải là số nguyên từ {low} đến {high}"))
    return int(text)


def _flag(name: str, text: str) -> bool:
    if text.lower() in ("true", "1"):
        return True
    if text.lower() in ("false", "0"):
        return False
    raise InvalidInput(_bad(name, "phải là true hoặc false"))


def parse_query(params: Iterable[tuple[str, str]], statuses: Iterable[str]) -> DossierQuery:
    """A DossierQuery from query-string pairs; a bad or unknown parameter is an
    `InvalidInput` whose Vietnamese message names it."""
    known = frozenset(statuses)
    status: list[str] = []
    single: dict[str, str] = {}
    for name, value in params:
        if name == "status":
            if value not in known:
                raise InvalidInput(_bad("status", f"«{value}» không phải trạng thái hồ sơ"))
            status.append(value)
        elif name not in _SINGLE:
            raise InvalidInput(_bad(name, "không có tham số này"))
        elif name in single:
            raise InvalidInput(_bad(name, "chỉ được cho một lần"))
        else:
            single[name] = value
    return DossierQuery(status=tuple(dict.fromkeys(status)), **_singles(single))


def _singles(single: dict[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in ("procedure", "officer", "ward", "cursor"):
        if name in single:
            if not single[name].strip():
                raise InvalidInput(_bad(name, "không được để trống"))
            found[name] = single[name].strip()
    for name in ("received_from", "received_to", "due_from", "due_to"):
        if name in single:
            found[name] = _day(name, single[name])
    if "overdue" in single:
        found["overdue"] = _flag("overdue", single["overdue"])
    if "due_within" in single:
        found["due_within_days"] = _whole("due_within", single["due_within"], 0, 365)
    if "limit" in single:
        found["limit"] = _whole("limit", single["limit"], 1, MAX_LIMIT)
    if "q" in single:
        if not single["q"].strip():
            raise InvalidInput(_bad("q", "không được để trống"))
        found["text"] = single["q"]
    for low, high in (("received_from", "received_to"), ("due_from", "due_to")):
        if low in found and high in found and found[low] > found[high]:
            raise InvalidInput(_bad(low, f"phải không sau «{high}»"))
    if "cursor" in found:
        decode_cursor(found["cursor"])
    return found
