"""What the handling routes accept and answer (msgspec Structs, documented at /schema)."""

from __future__ import annotations

import datetime as dt

import msgspec


class EventRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A transition asked for by a handler or supervisor."""

    kind: str
    reason: str | None = None
    missing: list[str] = msgspec.field(default_factory=list)
    apology: str | None = None
    new_appointment: dt.date | None = None


class TransitionAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """The event written and the dossier's state after it."""

    dossier_id: str
    event_id: str
    kind: str
    status: str
    status_label: str
    portal_status: int | None
    due_date: dt.date | None
    due_before_extension: dt.date | None
    supplement_requests: int


class ResultAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """The sealed result as stored (`result:<dossier_id>`, attachment `result.pdf`)."""

    dossier_id: str
    result_id: str
    official_code: str | None
    sealed_at: dt.datetime
    sealed_by: str
    seal_authority: str
    seal_certificate: str
    length: int
    sha256: str
    replaced: bool
