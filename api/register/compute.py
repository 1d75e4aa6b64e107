"""Pure: a dossier's register row from its documents, with no I/O and no clock.

Guarantees:
- `compute_row` reads the stored documents as plain dicts and never raises on a malformed
  one: a dossier that cannot be folded (unknown procedure, unreadable events) still gets a
  row, with what can be read, so the list never hides a dossier.
- Status is "submitted" until the intake outcome exists, "needs_attention" when the outcome
  says so, otherwise the status `dossiers.workflow.fold` reaches over the dossier's events
  ("received" while those cannot be folded).
- The due date is the fold's (from the intake's `received` event, then supplements and any
  extension); without one it falls back to the outcome's `appointment_date`.
- Timeliness depends on the day it is asked: `timeliness_on(row, today)` re-evaluates a row
  by `dossiers.deadlines.classify`'s rule, so a stored row never goes stale as days pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from api.register.rows import RegisterRow
from dossiers.calendar import WorkingCalendar, local_time
from dossiers.catalogue import Catalogue
from dossiers.deadlines import DeadlinePolicy, Timeliness, classify, end_of_processing
from dossiers.errors import DossierError
from dossiers.models import Event
from dossiers.validation import search_key
from dossiers.workflow import DossierState, Refusal, Status, fold, portal_status

SUBMITTED = "submitted"
NEEDS_ATTENTION = "needs_attention"
_BAD_EVENT = "Sự kiện không đọc được: {problem}"


@dataclass(frozen=True)
class DossierDocs:
    """Everything stored about one dossier, as the central database holds it."""

    dossier: Mapping[str, Any]
    events: tuple[Mapping[str, Any], ...] = ()
    outcome: Mapping[str, Any] | None = None
    result: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Folded:
    """The parsed events, the fold over them (None without a policy) and unreadable ones."""

    events: tuple[Event, ...]
    policy: DeadlinePolicy | None
    state: DossierState | None
    unreadable: tuple[Refusal, ...] = field(default=())


def parse_events(docs: Iterable[Mapping[str, Any]]) -> tuple[list[Event], list[Refusal]]:
    """Events in time order (ties by id), and a refusal for each document that is not one."""
    events: list[Event] = []
    bad: list[Refusal] = []
    for doc in docs:
        body = {k: v for k, v in doc.items() if not k.startswith("_")}
        try:
            events.append(msgspec.convert(body, type=Event, strict=False))
        except msgspec.ValidationError as exc:
            kind = str(doc.get("kind", ""))
            bad.append(Refusal(str(doc.get("_id", "")), kind, _BAD_EVENT.format(problem=exc)))
    events.sort(key=lambda e: (e.at, e.id))
    return events, bad


def policy_for(dossier: Mapping[str, Any], catalogue: Catalogue,
               calendar: WorkingCalendar) -> DeadlinePolicy | None:
    """The dossier's deadline policy from the catalogue, or None if its procedure is unknown."""
    try:
        procedure = catalogue.get(str(dossier.get("procedure_code", "")))
    except DossierError:
        return None
    version = procedure.version_named(str(dossier.get("procedure_version", "")))
    if version is None:
        return None
    form = dossier.get("form")
    limit = version.time_limit.for_form(form if isinstance(form, Mapping) else {})
    return DeadlinePolicy(calendar, limit,
                          verification=bool(dossier.get("needs_verification", False)))


def fold_docs(docs: DossierDocs, catalogue: Catalogue, calendar: WorkingCalendar) -> Folded:
    events, bad = parse_events(docs.events)
    policy = policy_for(docs.dossier, catalogue, calendar)
    state = fold(events, policy) if policy is not None else None
    return Folded(tuple(events), policy, state, tuple(bad))


def procedure_name(dossier: Mapping[str, Any], catalogue: Catalogue) -> str:
    code = str(dossier.get("procedure_code", ""))
    try:
        procedure = catalogue.get(code)
    except DossierError:
        return code
    version = procedure.version_named(str(dossier.get("procedure_version", "")))
    return (version or procedure.latest).name


def ward_of(access: object) -> str | None:
    if not isinstance(access, list | tuple):
        return None
    return next((p.split(":", 1)[1] for p in access
                 if isinstance(p, str) and p.startswith("ward:")), None)


def _date(value: object) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _moment(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _status(state: DossierState | None, outcome: Mapping[str, Any] | None) -> str:
    if outcome is None:
        return SUBMITTED
    if outcome.get("status") == NEEDS_ATTENTION:
        return NEEDS_ATTENTION
    if state is None or state.status is None:
        # Intake received it but its events could not be folded (or have not arrived yet).
        return Status.RECEIVED.value
    return state.status.value


def compute_row(docs: DossierDocs, catalogue: Catalogue, calendar: WorkingCalendar,
                as_of: dt.datetime) -> RegisterRow:
    """The register row of one dossier, its timeliness as of `as_of`."""
    return row_from(docs, fold_docs(docs, catalogue, calendar), catalogue, as_of)


def row_from(docs: DossierDocs, folded: Folded, catalogue: Catalogue,
             as_of: dt.datetime) -> RegisterRow:
    dossier, outcome = docs.dossier, docs.outcome or {}
    state = folded.state
    applicant = dossier.get("applicant")
    applicant = applicant if isinstance(applicant, Mapping) else {}
    appointment = _date(outcome.get("appointment_date"))
    due = state.due_date if state and state.due_date else appointment
    due_before = (state.due_before_extension if state and state.due_before_extension
                  else appointment)
    received = (state.received_at if state and state.received_at else None) \
        or _moment(outcome.get("received_at")) or _moment(dossier.get("received_at"))
    official = outcome.get("official_code") or dossier.get("official_code")
    status = _status(state, docs.outcome)
    return RegisterRow(
        dossier_id=str(dossier.get("_id", "")),
        provisional_code=str(dossier.get("provisional_code", "")),
        official_code=str(official) if official else None,
        procedure_code=str(dossier.get("procedure_code", "")),
        procedure_name=procedure_name(dossier, catalogue),
        officer_id=str(dossier.get("officer_id", "")),
        ward=ward_of(dossier.get("access")),
        applicant_name=str(applicant.get("full_name", "")),
        identity_number=str(applicant.get("identity_number", "")),
        status=status,
        portal_status=portal_status(state) if state and state.status else None,
        received_at=received,
        due_date=due,
        due_before_extension=due_before,
        ended_at=end_of_processing(state) if state else None,
        timeliness=_classified(state, due_before, as_of),
        supplement_requests=state.supplement_requests if state else 0,
        attention_reasons=tuple(str(r) for r in outcome.get("reasons", ()) or ()),
        has_result=docs.result is not None,
    )


def _classified(state: DossierState | None, due_before: dt.date | None,
                as_of: dt.datetime) -> str:
    if state is not None and state.due_before_extension is not None:
        return classify(state, as_of).value
    # No fold (intake not done, or unknown procedure): only the outcome's date can say late.
    if due_before is not None and local_time(as_of).date() > due_before:
        return Timeliness.LATE.value
    return Timeliness.PENDING.value


def settled(row: RegisterRow) -> bool:
    """Whether the row's timeliness no longer depends on the day (classify's fixed cases)."""
    return (row.due_before_extension is None or row.supplement_requests > 1
            or row.ended_at is not None)


def timeliness_on(row: RegisterRow, today: dt.date) -> str:
    """The row's timeliness on `today` (Asia/Ho_Chi_Minh): an open dossier turns late the
    day after its appointment (the one before any extension, as `classify` compares)."""
    if settled(row) or row.due_before_extension is None:
        return row.timeliness
    return Timeliness.LATE.value if today > row.due_before_extension else Timeliness.PENDING.value


def as_of_day(row: RegisterRow, today: dt.date) -> RegisterRow:
    timeliness = timeliness_on(row, today)
    if timeliness == row.timeliness:
        return row
    return msgspec.structs.replace(row, timeliness=timeliness)


def search_text(row: RegisterRow) -> str:
    """What the accent-insensitive search matches: the applicant's name and identity number."""
    return f"{search_key(row.applicant_name)} {row.identity_number}"
