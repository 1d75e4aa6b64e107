"""Handlers acting on one visit at the same moment, on both storage backends: each act
reads the visit's revision and writes with it, so of several simultaneous acts the ones
that lose get 409 and nothing is lost or half-applied; each act that happened is audited
once."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import audit_helpers
from audit_helpers import new_visit

from api.audit import parse_query
from api.auth.service import Identity
from api.errors import ConflictError
from api.services import Services
from api.visits.schemas import NewVisit, decode_body
from sync.errors import Conflict

office = audit_helpers.office
HANDLER = Identity("handler1", "handler", "dev-h", ())


def test_simultaneous_reassignments_all_land_or_are_refused(office: Services) -> None:
    visit = office.visits.create(HANDLER, decode_body(new_visit("officer1"), NewVisit))
    targets = ["officer2", "officer3", "officer2", "officer3"] * 3

    def assign(officer: str) -> str:
        try:
            return office.visits.assign(HANDLER, visit.id, officer).officer_id
        except (Conflict, ConflictError):
            return "refused"

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(assign, targets))
    landed = [o for o in outcomes if o != "refused"]
    assert landed, outcomes
    stored = office.central.get(f"visit:{visit.id}")
    assert stored["officer_id"] in ("officer2", "officer3")
    assert stored["access"] == [f"officer:{stored['officer_id']}", "ward:00004"]
    assert len(office.central.get(f"visit:{visit.id}", conflicts=True).get("_conflicts", [])) \
        == 0
    # Each write that happened is one audited act; the store's revision count agrees.
    acts = office.audit.query(parse_query({"dossier": f"visit:{visit.id}",
                                           "action": "visit.assign"})).items
    generation = int(stored["_rev"].split("-")[0])
    assert len(acts) == generation - 1  # every revision after the first is one reassignment
    assert dt.datetime.now(dt.UTC) - acts[-1].at < dt.timedelta(minutes=5)
