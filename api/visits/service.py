"""Visits in the central database: read, decide (`decisions`), write, audit.

Guarantees: every write is a `put` carrying the `_rev` that was read, so two handlers
acting on one visit at once cannot both win (the second gets 409); after each write the
gateway's access index is brought up to date before the answer, so the officer's next
sync already reflects it (a reassigned visit is on the old officer's purge list). Each
read and write is recorded in the audit log under the visit's document id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import msgspec

from api.audit import AuditLog
from api.auth.service import AuthService, Identity
from api.errors import NotFoundError
from api.visits import decisions
from api.visits.schemas import NewVisit
from dossiers.calendar import local_time
from dossiers.catalogue import Catalogue, load_catalogue
from dossiers.errors import FieldProblem
from dossiers.models import Visit, VisitStatus
from sync.errors import Conflict, NotFound

CREATE_ATTEMPTS = 3


class VisitFilter(msgspec.Struct, frozen=True, kw_only=True):
    officer: str | None = None
    status: VisitStatus | None = None
    planned_from: dt.date | None = None
    planned_to: dt.date | None = None

    def admits(self, visit: Visit) -> bool:
        return ((self.officer is None or visit.officer_id == self.officer)
                and (self.status is None or visit.status == self.status)
                and (self.planned_from is None or visit.planned_date >= self.planned_from)
                and (self.planned_to is None or visit.planned_date <= self.planned_to))


def _decode(doc: dict[str, Any]) -> Visit:
    return msgspec.convert({k: v for k, v in doc.items() if not k.startswith("_")}, Visit)


class VisitService:
    def __init__(self, central: Any, auth: AuthService, follower: Any, audit: AuditLog,
                 catalogue: Catalogue | None = None,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self._central, self._auth, self._follower, self._audit = central, auth, follower, audit
        self._catalogue = catalogue or load_catalogue()
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def _today(self) -> dt.date:
        return local_time(self._clock()).date()

    def _officer_problem(self, officer_id: str) -> FieldProblem | None:
        found = self._auth.user(officer_id)
        if found is None:
            return decisions.officer_problem(officer_id, None, False)
        user, _ = found
        return decisions.officer_problem(officer_id, user.role, user.disabled)

    def _read(self, visit_id: str) -> tuple[Visit, str]:
        try:
            doc = self._central.get(decisions.doc_id(visit_id))
        except NotFound:
            raise NotFoundError(f"Không có lượt đến nhà «{visit_id}».") from None
        if doc.get("type") != "visit":
            raise NotFoundError(f"Không có lượt đến nhà «{visit_id}».")
        return _decode(doc), str(doc["_rev"])

    def _write(self, visit: Visit, rev: str | None) -> None:
        doc: dict[str, Any] = msgspec.to_builtins(visit)
        doc["_id"] = decisions.doc_id(visit.id)
        if rev is not None:
            doc["_rev"] = rev
        self._central.put(doc)
        self._follower.catch_up()

    # -- reads ------------------------------------------------------------------------------

    def get(self, identity: Identity, visit_id: str) -> Visit:
        self._audit.record(identity, "visit.read", [decisions.doc_id(visit_id)])
        return self._read(visit_id)[0]

    def search(self, identity: Identity, wanted: VisitFilter) -> list[Visit]:
        rows = self._central.all_docs(startkey=decisions.DOC_PREFIX,
                                      endkey=decisions.DOC_PREFIX + "\ufff0",
                                      include_docs=True)["rows"]
        visits = [_decode(r["doc"]) for r in rows if r.get("doc", {}).get("type") == "visit"]
        found = sorted((v for v in visits if wanted.admits(v)),
                       key=lambda v: (v.planned_date, v.id))
        self._audit.record(identity, "visit.list", [decisions.doc_id(v.id) for v in found],
                           _describe(wanted))
        return found

    # -- writes -----------------------------------------------------------------------------

    def create(self, identity: Identity, request: NewVisit) -> Visit:
        today = self._today()
        officer = self._officer_problem(request.officer_id)
        for attempt in range(CREATE_ATTEMPTS):
            visit = decisions.plan_visit(request, decisions.new_visit_id(today),
                                         self._catalogue, today, officer)
            try:
                self._write(visit, None)
            except Conflict:  # the id is taken: draw another
                if attempt == CREATE_ATTEMPTS - 1:
                    raise
                continue
            self._audit.record(identity, "visit.create", [decisions.doc_id(visit.id)],
                               f"officer={visit.officer_id} ward={decisions.ward_of(visit)}")
            return visit
        raise AssertionError("unreachable")  # pragma: no cover

    def schedule(self, identity: Identity, visit_id: str, planned_date: dt.date) -> Visit:
        visit, rev = self._read(visit_id)
        changed = decisions.rescheduled(visit, planned_date, self._catalogue, self._today())
        self._write(changed, rev)
        self._audit.record(identity, "visit.schedule", [decisions.doc_id(visit_id)],
                           f"planned_date {visit.planned_date} -> {planned_date}")
        return changed

    def assign(self, identity: Identity, visit_id: str, officer_id: str) -> Visit:
        visit, rev = self._read(visit_id)
        if visit.officer_id == officer_id and visit.status != "cancelled":
            return visit  # already theirs: nothing to write, nothing done
        changed = decisions.reassigned(visit, officer_id, self._officer_problem(officer_id))
        self._write(changed, rev)
        self._audit.record(identity, "visit.assign", [decisions.doc_id(visit_id)],
                           f"officer {visit.officer_id} -> {officer_id}")
        return changed

    def cancel(self, identity: Identity, visit_id: str, reason: str) -> Visit:
        visit, rev = self._read(visit_id)
        changed = decisions.cancelled(visit, reason)
        self._write(changed, rev)
        # The reason is free text about a citizen: the log keeps the act, not the words.
        self._audit.record(identity, "visit.cancel", [decisions.doc_id(visit_id)])
        return changed


def _describe(wanted: VisitFilter) -> str:
    return " ".join(f"{k}={v}" for k, v in msgspec.structs.asdict(wanted).items()
                    if v is not None)
