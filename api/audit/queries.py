"""Audit queries: parsing the HTTP parameters and planning the key range. Pure.

Answers come oldest first (the log's own order, ascending keys). The plan reads the
narrowest key range the question allows: one dossier's copies when `dossier` is given
(reads and writes of it; listings that merely showed it have no copy, see `entries`),
else one actor's copies when `actor` is given, else the primary entries; `from`/`to`
narrow that range by time; `action` (and `actor` alongside `dossier`) are checked on each
row read. A paging session sees the log as it stood at its first page: the range's end
(`to`, or the moment of the first page) travels in the cursor with the last key read, so
acts logged meanwhile — this very query's own `audit.read` among them — cannot keep a
client chasing the tail. A date (YYYY-MM-DD) means that whole day in Asia/Ho_Chi_Minh; a
date-time must carry its UTC offset.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo

import msgspec

from api.audit.entries import HIGH, PRIMARY, actor_prefix, dossier_prefix, stamp
from api.errors import InvalidInput

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
PARAMETERS = ("actor", "dossier", "action", "from", "to", "cursor", "limit")


class AuditQuery(msgspec.Struct, frozen=True, kw_only=True):
    actor: str | None = None
    dossier: str | None = None
    action: str | None = None
    since: dt.datetime | None = None   # inclusive
    until: dt.datetime | None = None   # inclusive
    cursor: tuple[str, str] | None = None  # (last key of the previous page, range end)
    limit: int = DEFAULT_LIMIT


class KeyRange(msgspec.Struct, frozen=True):
    start: str
    end: str
    after: str | None  # a key to resume strictly after (the cursor)


def _bad(name: str, why: str) -> InvalidInput:
    return InvalidInput(f"Tham số '{name}' không hợp lệ: {why}")


def parse_moment(name: str, text: str, *, end: bool) -> dt.datetime:
    """A date is the whole local day (its start, or for `to` its last microsecond)."""
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            start = dt.datetime.combine(day, dt.time(), LOCAL)
            moment = start + dt.timedelta(days=1, microseconds=-1) if end else start
            return moment.astimezone(dt.UTC)
        parsed = dt.datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            raise _bad(name, "thời điểm phải ghi rõ múi giờ (ví dụ +07:00 hoặc Z).")
        return parsed.astimezone(dt.UTC)
    except ValueError:
        raise _bad(name, "cần ngày dạng YYYY-MM-DD hoặc thời điểm ISO 8601 có múi giờ.") from None
    except OverflowError:  # e.g. 0001-01-01 in +07:00 is before year 1 in UTC
        raise _bad(name, "thời điểm nằm ngoài khoảng cho phép.") from None


def encode_cursor(after: str, end: str) -> str:
    return base64.urlsafe_b64encode(f"{after}\n{end}".encode()).decode().rstrip("=")


def _decode_cursor(text: str) -> tuple[str, str]:
    try:
        after, end = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode().split("\n")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _bad("cursor", "con trỏ trang không đọc được.") from None
    return after, end


def _text(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if len(value) > 200 or not value.isprintable():
        raise _bad(name, "giá trị quá dài hoặc có ký tự không in được.")
    return value


def parse_query(params: Mapping[str, str], now: dt.datetime | None = None) -> AuditQuery:
    """The query the parameters ask for; an unknown or malformed parameter is a 400 naming it."""
    for name in params:
        if name not in PARAMETERS:
            raise _bad(name, f"không có tham số này (dùng: {', '.join(PARAMETERS)}).")
    limit = DEFAULT_LIMIT
    if (raw := _text(params, "limit")) is not None:
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
            raise _bad("limit", f"cần số nguyên từ 1 đến {MAX_LIMIT}.")
        limit = int(raw)
    since = until = None
    if (raw := _text(params, "from")) is not None:
        since = parse_moment("from", raw, end=False)
    if (raw := _text(params, "to")) is not None:
        until = parse_moment("to", raw, end=True)
    if since and until and since > until:
        raise _bad("to", "thời điểm kết thúc trước thời điểm bắt đầu.")
    cursor = _text(params, "cursor")
    query = AuditQuery(actor=_text(params, "actor"), dossier=_text(params, "dossier"),
                       action=_text(params, "action"), since=since, until=until,
                       cursor=_decode_cursor(cursor) if cursor else None, limit=limit)
    plan(query, now or dt.datetime.now(dt.UTC))  # a cursor from another question: refused
    return query


def prefix_of(query: AuditQuery) -> str:
    if query.dossier is not None:
        return dossier_prefix(query.dossier)
    if query.actor is not None:
        return actor_prefix(query.actor)
    return PRIMARY


def plan(query: AuditQuery, now: dt.datetime) -> KeyRange:
    """The keys to read: `now` closes the range when neither `to` nor a cursor does."""
    prefix = prefix_of(query)
    start = prefix + (stamp(query.since) if query.since else "")
    until = query.until if query.until is not None else now
    end = prefix + stamp(until) + HIGH
    if query.cursor is None:
        return KeyRange(start, end, None)
    after, cursor_end = query.cursor
    if not (after.startswith(prefix) and start <= after <= cursor_end
            and cursor_end.startswith(prefix) and cursor_end.endswith(HIGH)
            and (query.until is None or cursor_end == end)):
        raise _bad("cursor", "con trỏ trang không thuộc truy vấn này.")
    return KeyRange(after, cursor_end, after)


def wanted(query: AuditQuery, row: Mapping[str, object]) -> bool:
    """The checks the key range does not make by itself, on an entry or a pointer to one
    (both carry `actor` and `action`; the dossier, when asked for, is the range itself)."""
    if query.action is not None and row.get("action") != query.action:
        return False
    return query.actor is None or row.get("actor") == query.actor
