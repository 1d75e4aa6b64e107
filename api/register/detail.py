"""Pure: a dossier's detail page from its documents, the fold and the caller's role.

Guarantees: every event document appears, either applied (in time order) or refused with
its Vietnamese reason; every attachment of the dossier, its intake outcome, its result and
its events is listed with where it lives; `allowed_actions` are the workflow's next events
for the caller's role (none before intake has received the dossier).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.register.compute import NEEDS_ATTENTION, SUBMITTED, DossierDocs, Folded
from api.register.rows import RegisterRow
from api.register.schemas import (
    AttachmentView,
    DossierDetail,
    EventView,
    IntakeView,
    RefusedView,
    ResultView,
)
from dossiers.models import Role
from dossiers.workflow import EVENT_LABELS, STATUS_LABELS, Status, allowed_events

UNJUDGED = "Không xác định được thủ tục của hồ sơ nên chưa xét được sự kiện này."
OTHER_LABELS = {SUBMITTED: "Đã đồng bộ, chờ tiếp nhận", NEEDS_ATTENTION: "Cần xem xét"}


def status_label(status: str) -> str:
    if status in OTHER_LABELS:
        return OTHER_LABELS[status]
    return STATUS_LABELS[Status(status)]


def attachments_of(docs: DossierDocs) -> list[AttachmentView]:
    """(name, where) of every attachment, the dossier's own first."""
    sources: list[tuple[str, Mapping[str, Any] | None]] = [
        ("dossier", docs.dossier), ("intake", docs.outcome), ("result", docs.result),
        *((str(e.get("_id", "")), e) for e in docs.events)]
    found: list[AttachmentView] = []
    for source, doc in sources:
        for name, meta in sorted(((doc or {}).get("_attachments") or {}).items()):
            found.append(AttachmentView(
                name=name, content_type=str(meta.get("content_type", "application/octet-stream")),
                length=meta.get("length"), digest=meta.get("digest"), source=source))
    return found


def find_attachment(docs: DossierDocs, name: str) -> tuple[str, str] | None:
    """(document id, attachment name) of the first attachment called `name`, or None."""
    ids = {"dossier": str(docs.dossier.get("_id", "")),
           "intake": str((docs.outcome or {}).get("_id", "")),
           "result": str((docs.result or {}).get("_id", ""))}
    for view in attachments_of(docs):
        if view.name == name:
            return ids.get(view.source, view.source), name
    return None


def _intake(outcome: Mapping[str, Any] | None) -> IntakeView | None:
    if outcome is None:
        return None
    text = {k: (str(outcome[k]) if outcome.get(k) is not None else None)
            for k in ("official_code", "received_at", "appointment_date", "processed_at",
                      "queue")}
    return IntakeView(status=str(outcome.get("status", "")),
                      reasons=[str(r) for r in outcome.get("reasons", ()) or ()],
                      signatures=outcome.get("signatures"), **text)


def _result(result: Mapping[str, Any] | None) -> ResultView | None:
    if result is None:
        return None
    return ResultView(**{k: (str(result[k]) if result.get(k) is not None else None)
                         for k in ("official_code", "sealed_at", "sealed_by")})


def allowed_actions(row: RegisterRow, folded: Folded, role: str) -> list[str]:
    if row.status in (SUBMITTED, NEEDS_ATTENTION) or folded.state is None:
        return []
    if role not in ("handler", "supervisor"):
        return []
    event_role: Role = "handler" if role == "handler" else "supervisor"
    return list(allowed_events(folded.state, event_role))


def refusals(folded: Folded) -> list[RefusedView]:
    """Every event not applied, with its reason: unreadable, refused by the workflow, or
    unjudged because the dossier's procedure (hence its deadlines) is unknown."""
    found = [RefusedView(event_id=r.event_id, kind=r.kind, reason=r.reason)
             for r in (*folded.unreadable, *(folded.state.refused if folded.state else ()))]
    if folded.state is None:
        found += [RefusedView(event_id=e.id, kind=e.kind, reason=UNJUDGED)
                  for e in folded.events]
    return found


def detail(row: RegisterRow, docs: DossierDocs, folded: Folded, role: str) -> DossierDetail:
    applied = folded.state.applied if folded.state else ()
    events = [EventView(id=e.id, kind=e.kind, label=EVENT_LABELS[e.kind], at=e.at,
                        actor=e.actor, role=e.role, reason=e.reason, missing=e.missing,
                        apology=e.apology, new_appointment=e.new_appointment)
              for e in applied]
    return DossierDetail(
        row=row, status_label=status_label(row.status),
        dossier={k: v for k, v in docs.dossier.items() if not k.startswith("_")},
        events=events, refused=refusals(folded), attachments=attachments_of(docs),
        intake=_intake(docs.outcome), result=_result(docs.result),
        allowed_actions=allowed_actions(row, folded, role))
