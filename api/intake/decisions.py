"""Pure intake decisions: no I/O, no clock; everything the worker writes is decided here.

Guarantees:
- Every document id is derived from the dossier's id, so a second attempt writes nothing new.
- A refusal always carries at least one reason, in Vietnamese.
- The official code's sequence comes from a per-agency, per-day counter document whose
  `issued` map is keyed by dossier id: a dossier already in it keeps its number.
- One receipt time per dossier: the device's claimed `received_at`, clamped to not after the
  intake's clock (a device clock running ahead must not put the receipt after later handler
  events). The receipt event, the appointment date, the code's day and the outcome all use
  it, so `dossiers.workflow.fold` over the events finds the outcome's appointment date.
- The signature summary is read from `signing.verify`'s report only; it never re-judges.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from dossiers.calendar import WorkingCalendar, local_time
from dossiers.catalogue import Catalogue
from dossiers.codes import MAX_DAILY_SEQUENCE, OfficialCode, check_agency_code
from dossiers.errors import DossierError
from dossiers.models import SCHEMA_VERSION, Event
from signing.forms import CITIZEN_FIELD, OFFICER_FIELD
from signing.verify import MESSAGES, DocumentReport, Problem, SignatureReport

DECLARATION_PDF = "declaration.pdf"
LTA_PDF = "declaration-lta.pdf"
ACTOR = "intake"
NEEDS_ATTENTION = "needs_attention"
RECEIVED = "received"


class Submission(msgspec.Struct, frozen=True, kw_only=True):
    """The fields of a synced dossier document that intake reads (others pass through)."""

    id: str
    provisional_code: str
    agency_code: str
    procedure_code: str
    procedure_version: str
    received_at: dt.datetime
    form: dict[str, Any] = {}
    needs_verification: bool = False
    access: tuple[str, ...] = ()


class CheckSummary(msgspec.Struct, frozen=True):
    """What validation of the signed PDF found: Vietnamese reasons, empty when all is well."""

    reasons: tuple[str, ...]


def outcome_id(dossier_id: str) -> str:
    return f"intake:{dossier_id}"


def receipt_event_id(dossier_id: str) -> str:
    return f"event:{dossier_id}:received"


def counter_id(agency: str, day: dt.date) -> str:
    return f"intake-counter:{agency}:{day:%y%m%d}"


def submission_of(doc: Mapping[str, Any]) -> Submission | str:
    """The submission in a dossier document, or a Vietnamese reason why it cannot be read."""
    try:
        found = msgspec.convert({**doc, "id": doc.get("_id")}, type=Submission, strict=False)
    except msgspec.ValidationError as exc:
        # msgspec names the field either as "`$.name`" or as "required field `name`".
        named = re.search(r"`\$\.([^`]+)`|field `([^`]+)`", str(exc))
        where = f" trường «{named[1] or named[2]}»" if named else ""
        return f"Hồ sơ không đọc được: thiếu hoặc sai{where or ' dữ liệu'}."
    if found.received_at.tzinfo is None:
        return "Thời điểm tiếp nhận thiếu múi giờ."
    return found


def receipt_time(submission: Submission, now: dt.datetime) -> dt.datetime:
    """When the dossier counts as received: the device's claim, but never after `now`."""
    return min(submission.received_at, now)


def appointment(submission: Submission, catalogue: Catalogue, calendar: WorkingCalendar,
                received: dt.datetime | None = None) -> dt.date | str:
    """The appointment date from the procedure's time limit counted from `received` (default:
    the device's claim), or a Vietnamese reason."""
    try:
        procedure = catalogue.get(submission.procedure_code)
    except DossierError:
        return f"Thủ tục «{submission.procedure_code}» không có trong danh mục."
    version = procedure.version_named(submission.procedure_version)
    if version is None:
        return (f"Phiên bản «{submission.procedure_version}» của thủ tục "
                f"«{submission.procedure_code}» không có trong danh mục.")
    limit = version.time_limit.for_form(submission.form)
    return calendar.due_date(received or submission.received_at, limit,
                             verification=submission.needs_verification)


def code_day(submission: Submission, received: dt.datetime | None = None) -> dt.date:
    """The day in the official code: the receipt day in Asia/Ho_Chi_Minh."""
    return local_time(received or submission.received_at).date()


def allocate(counter: Mapping[str, Any] | None, agency: str, day: dt.date,
             dossier_id: str) -> tuple[OfficialCode, dict[str, Any] | None]:
    """The dossier's code and the counter document to write (None: already recorded)."""
    check_agency_code(agency)
    issued: dict[str, int] = dict((counter or {}).get("issued", {}))
    if dossier_id in issued:
        return OfficialCode(agency, day, issued[dossier_id]), None
    sequence = max(issued.values(), default=0) + 1
    if sequence > MAX_DAILY_SEQUENCE:
        raise DossierError(
            f"Cơ quan {agency} đã dùng hết {MAX_DAILY_SEQUENCE} số hồ sơ của ngày {day:%d/%m/%Y}.")
    issued[dossier_id] = sequence
    updated: dict[str, Any] = {"_id": counter_id(agency, day), "type": "intake-counter",
                               "agency": agency, "day": day.isoformat(), "issued": issued}
    if counter is not None and "_rev" in counter:
        updated["_rev"] = counter["_rev"]
    return OfficialCode(agency, day, sequence), updated


def handler_queue(procedure_code: str) -> str:
    return f"queue:procedure:{procedure_code}"


def receipt_event(submission: Submission, at: dt.datetime) -> dict[str, Any]:
    """The `received` event, a valid `dossiers.models.Event`, with a deterministic id."""
    event = Event(access=(*submission.access, handler_queue(submission.procedure_code)),
                  id=receipt_event_id(submission.id), dossier=submission.provisional_code,
                  kind="received", at=at, actor=ACTOR, role="officer")
    doc: dict[str, Any] = msgspec.to_builtins(event)
    doc["_id"] = event.id
    return doc


def accepted_outcome(submission: Submission, code: OfficialCode, appointment_date: dt.date,
                     now: dt.datetime, *, received: dt.datetime | None = None,
                     signatures: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The outcome of a dossier that passed every check: it waits in its handlers' queue.
    `received` is the receipt time (`receipt_time`); the device's claim is kept beside it."""
    return {
        "_id": outcome_id(submission.id), "type": "intake-outcome", "schema": SCHEMA_VERSION,
        "dossier_id": submission.id, "dossier": submission.provisional_code,
        "status": RECEIVED, "official_code": str(code),
        "received_at": (received or submission.received_at).isoformat(),
        "claimed_received_at": submission.received_at.isoformat(),
        "appointment_date": appointment_date.isoformat(),
        "queue": handler_queue(submission.procedure_code),
        "access": [*submission.access, handler_queue(submission.procedure_code)],
        "processed_at": now.isoformat(), "reasons": [],
        "signatures": dict(signatures) if signatures is not None else None,
    }


def attention_outcome(dossier_id: str, doc: Mapping[str, Any], reasons: Iterable[str],
                      now: dt.datetime, *,
                      signatures: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The outcome of a dossier that failed a check: reasons in Vietnamese, never empty; the
    signature summary when the signed PDF was read (it shows which signature failed)."""
    listed = list(dict.fromkeys(reasons)) or ["Hồ sơ không qua được kiểm tra tiếp nhận."]
    access = doc.get("access", [])
    return {
        "_id": outcome_id(dossier_id), "type": "intake-outcome", "schema": SCHEMA_VERSION,
        "dossier_id": dossier_id, "dossier": doc.get("provisional_code"),
        "status": NEEDS_ATTENTION, "reasons": listed,
        "access": [*(access if isinstance(access, list) else []), "queue:needs-attention"],
        "processed_at": now.isoformat(),
        "signatures": dict(signatures) if signatures is not None else None,
    }


# --- the signature report the back office shows ---------------------------------------------

CITIZEN_DRAWN = "citizen_drawn"
CITIZEN_CERTIFICATE = "citizen_certificate"
DEVICE = "device"
TIMESTAMP = "timestamp"
OTHER = "other"
KIND_LABELS = {
    CITIZEN_DRAWN: "Chữ ký tay của công dân (vẽ trên màn hình)",
    CITIZEN_CERTIFICATE: "Chữ ký số của công dân",
    DEVICE: "Chữ ký số của thiết bị cán bộ tiếp nhận",
    TIMESTAMP: "Dấu thời gian",
    OTHER: "Chữ ký số khác",
}
# pyHanko's ModificationLevel names, from least to most change after signing.
MODIFICATION_ORDER = ("NONE", "LTA_UPDATES", "FORM_FILLING", "ANNOTATIONS", "OTHER")


def _kind(signature: SignatureReport) -> str:
    if signature.kind == "timestamp":
        return TIMESTAMP
    return {CITIZEN_FIELD: CITIZEN_CERTIFICATE, OFFICER_FIELD: DEVICE}.get(signature.field, OTHER)


def _revocation_checked(signature: SignatureReport) -> bool:
    # verify validates with revocation *required*: a trusted chain had its CRLs checked, and a
    # revoked one was found in them; any other failure may have stopped before revocation.
    return signature.trusted or Problem.REVOKED in signature.problems


def _entry(signature: SignatureReport) -> dict[str, Any]:
    kind = _kind(signature)
    return {
        "field": signature.field, "kind": kind, "label": KIND_LABELS[kind],
        "signer": signature.signer or None, "certificate_serial": signature.signer_serial or None,
        "claimed_time": signature.claimed_time,
        "valid": signature.intact and signature.valid, "trusted": signature.trusted,
        "revocation_checked": _revocation_checked(signature), "revoked_at": signature.revoked_at,
        "modification": signature.modification, "ok": signature.ok,
        "problems": [MESSAGES[p] for p in signature.problems],
    }


def _drawn_entry() -> dict[str, Any]:
    # A drawing is an appearance, not a signature: nothing cryptographic to report on it; the
    # device's signature over the document is what protects it.
    return {
        "field": CITIZEN_FIELD, "kind": CITIZEN_DRAWN, "label": KIND_LABELS[CITIZEN_DRAWN],
        "signer": None, "certificate_serial": None, "claimed_time": None,
        "valid": None, "trusted": None, "revocation_checked": None, "revoked_at": None,
        "modification": None, "ok": True, "problems": [],
    }


def document_modification(report: DocumentReport) -> str | None:
    """The most change any signature saw after it was made (None: no signature read)."""
    levels = [s.modification for s in report.signatures if s.modification in MODIFICATION_ORDER]
    return max(levels, key=MODIFICATION_ORDER.index, default=None)


def signature_summary(report: DocumentReport) -> dict[str, Any]:
    """The signature report the back office shows, as plain JSON, in the document's order
    (the citizen's field first: a drawn citizen signature is listed where it stands)."""
    items = [_entry(s) for s in report.signatures]
    if report.drawn_signature:
        items.insert(0, _drawn_entry())
    return {
        "ok": report.ok, "level": report.level or None,
        "modification": document_modification(report),
        "items": items,
        "problems": [MESSAGES[p] for p in report.problems],
        "notes": list(report.notes),
    }
