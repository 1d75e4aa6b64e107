"""What the dossier routes answer, as typed structs (documented at /schema)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from api.register.rows import RegisterRow


class DossierList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[RegisterRow]
    next_cursor: str | None = None


class AttachmentView(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    content_type: str
    length: int | None
    digest: str | None
    source: str  # "dossier", "intake", "result" or the id of the event that carries it


class EventView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    kind: str
    label: str
    at: dt.datetime
    actor: str
    role: str
    reason: str | None = None
    missing: tuple[str, ...] = ()
    apology: str | None = None
    new_appointment: dt.date | None = None


class RefusedView(msgspec.Struct, frozen=True, kw_only=True):
    event_id: str
    kind: str
    reason: str


class IntakeView(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    official_code: str | None = None
    received_at: str | None = None
    appointment_date: str | None = None
    processed_at: str | None = None
    queue: str | None = None
    reasons: list[str] = []
    signatures: Any = None  # the intake's signature report, as intake wrote it


class ResultView(msgspec.Struct, frozen=True, kw_only=True):
    official_code: str | None = None
    sealed_at: str | None = None
    sealed_by: str | None = None


class DossierDetail(msgspec.Struct, frozen=True, kw_only=True):
    row: RegisterRow
    status_label: str
    dossier: dict[str, Any]
    events: list[EventView]
    refused: list[RefusedView]
    attachments: list[AttachmentView]
    intake: IntakeView | None
    result: ResultView | None
    allowed_actions: list[str]
