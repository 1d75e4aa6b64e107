"""Visits through the HTTP API on both storage backends: created, listed, rescheduled and
cancelled by handlers and supervisors, with every refusal named in Vietnamese, and every
act in the audit log."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

import audit_helpers
import pytest
from audit_helpers import new_visit
from auth_helpers import login
from litestar.testing import TestClient

from api.services import Services
from dossiers.calendar import local_time

office = audit_helpers.office
office_client = audit_helpers.office_client
TODAY = local_time(dt.datetime.now(dt.UTC)).date()


def _create(client: TestClient[Any], headers: dict[str, str], **changes: Any) -> dict[str, Any]:
    answer = client.post("/api/visits", json=new_visit(**changes), headers=headers)
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = answer.json()
    assert body["detail"] == unicodedata.normalize("NFC", body["detail"])
    return body


def test_created_visit_is_stored_for_its_officer_nfc(office: Services,
                                                     office_client: TestClient[Any]) -> None:
    headers = login(office_client, "handler1")
    decomposed = unicodedata.normalize("NFD", "  Nguyễn Thị Hường ")
    person = {**audit_helpers.citizen(), "full_name": decomposed}
    visit = _create(office_client, headers, citizen=person, procedures=["1.001776", "1.001776"])
    assert visit["status"] == "planned" and visit["cancel_reason"] is None
    assert visit["citizen"]["full_name"] == "Nguyễn Thị Hường"
    assert visit["citizen"]["full_name"] == unicodedata.normalize("NFC", "Nguyễn Thị Hường")
    assert visit["citizen"]["phone"] == "+84912345678"
    assert visit["procedures"] == ["1.001776"] and visit["ward"] == "00004"
    stored = office.central.get(f"visit:{visit['id']}")
    assert stored["type"] == "visit" and stored["access"] == ["officer:officer1", "ward:00004"]
    assert stored["status"] == "planned"
    second = _create(office_client, headers)
    assert second["id"] != visit["id"]
    got = office_client.get(f"/api/visits/{visit['id']}", headers=headers)
    assert got.status_code == 200 and got.json() == visit
    acts = office.audit.query(audit_helpers_query(f"visit:{visit['id']}")).items
    assert [(a.action, a.actor) for a in acts] == [("visit.create", "handler1"),
                                                   ("visit.read", "handler1")]


def audit_helpers_query(doc_id: str) -> Any:
    from api.audit import parse_query

    return parse_query({"dossier": doc_id})


@pytest.mark.parametrize(("changes", "field"), [
    ({"officer_id": "nobody"}, "officer_id"),
    ({"officer_id": "handler1"}, "officer_id"),
    ({"planned_date": (TODAY - dt.timedelta(days=1)).isoformat()}, "planned_date"),
    ({"procedures": ["9.999999"]}, "procedures"),
    ({"procedures": []}, "procedures"),
    ({"ward": "4"}, "ward"),
    ({"citizen": {**audit_helpers.citizen(), "identity_number": "12345"}},
     "citizen.identity_number"),
])
def test_invalid_visits_are_422_naming_the_field(office: Services,
                                                 office_client: TestClient[Any],
                                                 changes: dict[str, Any], field: str) -> None:
    before = office.central.info()["doc_count"]
    answer = office_client.post("/api/visits", json=new_visit(**changes),
                                headers=login(office_client, "supervisor1"))
    problem = _problem(answer, 422)
    assert field in [e["field"] for e in problem["errors"]]
    assert office.central.info()["doc_count"] == before


def test_disabled_officer_cannot_be_given_visits(office_client: TestClient[Any]) -> None:
    admin = login(office_client, "admin")
    assert office_client.post("/api/admin/users/officer3/disable", headers=admin).status_code \
        == 200
    answer = office_client.post("/api/visits", json=new_visit("officer3"),
                                headers=login(office_client, "handler1"))
    assert "khoá" in _problem(answer, 422)["detail"]


@pytest.mark.parametrize(("body", "named"), [
    ({"procedures": ["1.001776"]}, "citizen"),
    ({**new_visit(), "planned_date": "ngày mai"}, "planned_date"),
    ({**new_visit(), "extra": 1}, "extra"),
    ({**new_visit(), "priority_group": "vip"}, "priority_group"),
])
def test_malformed_bodies_are_400_naming_the_field(office_client: TestClient[Any],
                                                   body: dict[str, Any], named: str) -> None:
    answer = office_client.post("/api/visits", json=body, headers=login(office_client, "handler1"))
    assert f"«{named}" in _problem(answer, 400)["detail"]


def test_only_handlers_and_supervisors(office_client: TestClient[Any]) -> None:
    for user in ("officer1", "admin"):
        headers = login(office_client, user)
        _problem(office_client.post("/api/visits", json=new_visit(), headers=headers), 403)
        _problem(office_client.get("/api/visits", headers=headers), 403)
    _problem(office_client.get("/api/visits"), 401)


def test_list_filters_by_officer_status_and_planned_date(office_client: TestClient[Any]) -> None:
    headers = login(office_client, "handler1")
    days = [(TODAY + dt.timedelta(days=n)).isoformat() for n in (1, 2, 3)]
    a = _create(office_client, headers, planned_date=days[2])
    b = _create(office_client, headers, officer="officer2", planned_date=days[0])
    c = _create(office_client, headers, planned_date=days[1])
    cancel = office_client.post(f"/api/visits/{c['id']}/cancel", json={"reason": "Ốm"},
                                headers=headers)
    assert cancel.status_code == 200, cancel.text

    def ids(**params: str) -> list[str]:
        answer = office_client.get("/api/visits", params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        return [v["id"] for v in answer.json()["items"]]

    assert ids() == [b["id"], c["id"], a["id"]]  # by planned date
    assert ids(officer="officer1") == [c["id"], a["id"]]
    assert ids(status="planned") == [b["id"], a["id"]]
    assert ids(status="cancelled", officer="officer1") == [c["id"]]
    assert ids(**{"from": days[1], "to": days[1]}) == [c["id"]]
    for query, named in (("status=done", "status"), ("from=mai", "from"), ("x=1", "x"),
                         (f"from={days[2]}&to={days[0]}", "to")):
        answer = office_client.get(f"/api/visits?{query}", headers=headers)
        assert f"'{named}'" in _problem(answer, 400)["detail"]


def test_reschedule_and_cancel(office: Services, office_client: TestClient[Any]) -> None:
    headers = login(office_client, "supervisor1")
    visit = _create(office_client, headers)
    url = f"/api/visits/{visit['id']}"
    later = (TODAY + dt.timedelta(days=7)).isoformat()
    moved = office_client.post(f"{url}/schedule", json={"planned_date": later}, headers=headers)
    assert moved.status_code == 200 and moved.json()["planned_date"] == later
    past = (TODAY - dt.timedelta(days=1)).isoformat()
    _problem(office_client.post(f"{url}/schedule", json={"planned_date": past},
                                headers=headers), 422)
    _problem(office_client.post(f"{url}/cancel", json={"reason": "   "}, headers=headers), 422)

    done = office_client.post(f"{url}/cancel", json={"reason": "Công dân đã chuyển đi"},
                              headers=headers)
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["cancel_reason"]) == ("cancelled",
                                                                     "Công dân đã chuyển đi")
    for action, body in (("schedule", {"planned_date": later}),
                         ("assign", {"officer_id": "officer2"}),
                         ("assign", {"officer_id": "officer1"}),
                         ("cancel", {"reason": "lần nữa"})):
        refused = _problem(office_client.post(f"{url}/{action}", json=body, headers=headers), 409)
        assert "Công dân đã chuyển đi" in refused["detail"]
    stored = office.central.get(f"visit:{visit['id']}")
    assert (stored["status"], stored["officer_id"]) == ("cancelled", "officer1")
    assert stored["planned_date"] == later
    # Still on the officer's device, marked cancelled.
    device = office_client.get(f"/sync/officer1/visit:{visit['id']}",
                               headers=login(office_client, "officer1"))
    assert device.status_code == 200 and device.json()["status"] == "cancelled"
    acts = [a.action for a in office.audit.query(audit_helpers_query(f"visit:{visit['id']}"))
            .items]
    assert acts == ["visit.create", "visit.schedule", "visit.cancel"]


def test_unknown_visit_is_404(office_client: TestClient[Any]) -> None:
    headers = login(office_client, "handler1")
    _problem(office_client.get("/api/visits/khong-co", headers=headers), 404)
    _problem(office_client.post("/api/visits/khong-co/cancel", json={"reason": "x"},
                                headers=headers), 404)
