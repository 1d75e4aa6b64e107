"""A handler carries a dossier through the workflow over HTTP: accept, processing, resolved,
the sealed result, result ready — on both storage backends; and every step the rules forbid
is refused with 403 (role) or 409 (state, rule) and the workflow's Vietnamese reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

import handling_helpers
from auth_helpers import login
from handling_helpers import (
    post_event,
    result_pdf,
    store_received,
    upload_result,
)
from litestar.testing import TestClient

from api.services import Services
from dossiers.calendar import default_calendar

# The scenario's fixtures (a demo with its district PKI and seal), by name.
client = handling_helpers.client
embedded_client = handling_helpers.embedded_client
embedded_office = handling_helpers.embedded_office
office = handling_helpers.office


def _problem(answer: Any, status: int) -> str:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    detail: str = answer.json()["detail"]
    return detail


def test_the_happy_path_through_every_handler_step(client: TestClient[Any],
                                                   office: Services) -> None:
    stored = store_received(office.central, 1)
    handler = login(client, "handler1")
    steps = [("accepted", "accepted", 2), ("processing", "processing", 4),
             ("resolved", "resolved", 9)]
    for kind, status, portal in steps:
        answer = post_event(client, handler, stored.dossier_id, kind)
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert body["status"] == status and body["portal_status"] == portal
        assert body["event_id"] == f"event:{stored.dossier_id}:{kind}:1"
        assert body["due_date"] == stored.due_date.isoformat()
        event = office.central.get(body["event_id"])
        assert event["actor"] == "handler1" and event["role"] == "handler"
        assert event["access"] == ["officer:officer1", "ward:00004", "queue:procedure:1.001776"]
    uploaded = upload_result(client, handler, stored.dossier_id, result_pdf())
    assert uploaded.status_code == 201, uploaded.text
    ready = post_event(client, handler, stored.dossier_id, "result_ready")
    assert ready.status_code == 201, ready.text
    assert ready.json()["status"] == "result_ready"
    # The register shows the state the events lead to, and each write was audited.
    office.register.catch_up()  # type: ignore[attr-defined]
    row = office.register.row(stored.dossier_id)  # type: ignore[attr-defined]
    assert row.status == "result_ready" and row.has_result
    acts = office.audit.query(_audit_query(stored.dossier_id)).items
    assert [a.action for a in acts].count("dossier.event") == 4
    assert [a.action for a in acts].count("dossier.result") == 1
    assert {a.actor for a in acts} == {"handler1"}


def _audit_query(dossier_id: str) -> Any:
    from api.audit import AuditQuery

    return AuditQuery(dossier=dossier_id, limit=100)


def test_officer_and_admin_are_refused_with_a_reason(embedded_client: TestClient[Any],
                                                     embedded_office: Services) -> None:
    stored = store_received(embedded_office.central, 2)
    for user in ("officer1", "admin"):
        answer = post_event(embedded_client, login(embedded_client, user), stored.dossier_id,
                            "accepted")
        assert "cán bộ xử lý hoặc lãnh đạo" in _problem(answer, 403)
        answer = upload_result(embedded_client, login(embedded_client, user),
                               stored.dossier_id, result_pdf())
        assert "cán bộ xử lý hoặc lãnh đạo" in _problem(answer, 403)
    # Nothing was written by the refused callers.
    assert embedded_office.central.changes(since=0)["results"][-1]["id"].startswith("intake:")


def test_a_supervisor_may_not_do_a_handlers_step(embedded_client: TestClient[Any],
                                                 embedded_office: Services) -> None:
    stored = store_received(embedded_office.central, 3)
    supervisor = login(embedded_client, "supervisor1")
    detail = _problem(post_event(embedded_client, supervisor, stored.dossier_id, "accepted"),
                      403)
    assert detail == "Vai trò lãnh đạo không được chấp nhận hồ sơ; chỉ cán bộ xử lý."
    # ... but may reject an accepted dossier, with a reason (handler and supervisor may).
    handler = login(embedded_client, "handler1")
    assert post_event(embedded_client, handler, stored.dossier_id, "accepted").status_code == 201
    rejected = post_event(embedded_client, supervisor, stored.dossier_id, "rejected",
                          reason="Không thuộc thẩm quyền giải quyết của phường.")
    assert rejected.status_code == 201, rejected.text
    assert rejected.json()["status"] == "rejected"


def test_the_wrong_state_is_refused_with_the_workflows_reason(
        embedded_client: TestClient[Any], embedded_office: Services) -> None:
    stored = store_received(embedded_office.central, 4)
    handler = login(embedded_client, "handler1")
    detail = _problem(post_event(embedded_client, handler, stored.dossier_id, "resolved"), 409)
    assert detail == "Không thể ghi nhận đã xử lý xong khi hồ sơ đang ở trạng thái «Mới tiếp nhận»."
    detail = _problem(post_event(embedded_client, handler, stored.dossier_id, "result_ready"),
                      409)
    assert "trạng thái «Mới tiếp nhận»" in detail
    # result_ready needs the sealed result, even once resolved.
    for kind in ("accepted", "processing", "resolved"):
        assert post_event(embedded_client, handler, stored.dossier_id, kind).status_code == 201
    detail = _problem(post_event(embedded_client, handler, stored.dossier_id, "result_ready"),
                      409)
    assert "Chưa có kết quả đã đóng dấu" in detail


def test_reject_needs_a_reason(embedded_client: TestClient[Any],
                               embedded_office: Services) -> None:
    stored = store_received(embedded_office.central, 5)
    handler = login(embedded_client, "handler1")
    for reason in (None, "   "):
        fields = {"reason": reason} if reason is not None else {}
        detail = _problem(post_event(embedded_client, handler, stored.dossier_id, "rejected",
                                     **fields), 409)
        assert detail == "Phải ghi rõ lý do khi từ chối."
    answer = post_event(embedded_client, handler, stored.dossier_id, "rejected",
                        reason="Hồ sơ không thuộc đối tượng được hưởng trợ cấp.")
    assert answer.status_code == 201 and answer.json()["status"] == "rejected"
    event = embedded_office.central.get(answer.json()["event_id"])
    assert event["reason"] == "Hồ sơ không thuộc đối tượng được hưởng trợ cấp."


def test_supplement_is_asked_once_with_its_full_list(embedded_client: TestClient[Any],
                                                     embedded_office: Services) -> None:
    stored = store_received(embedded_office.central, 6)
    handler = login(embedded_client, "handler1")
    detail = _problem(post_event(embedded_client, handler, stored.dossier_id,
                                 "supplement_requested", missing=[" ", ""]), 409)
    assert detail == "Yêu cầu bổ sung phải liệt kê đầy đủ, một lần, mọi giấy tờ còn thiếu."
    for kind in ("accepted", "processing"):
        assert post_event(embedded_client, handler, stored.dossier_id, kind).status_code == 201
    missing = ["Bản sao giấy khai sinh", "Xác nhận của trưởng thôn"]
    asked = post_event(embedded_client, handler, stored.dossier_id, "supplement_requested",
                       missing=missing)
    assert asked.status_code == 201, asked.text
    assert asked.json()["status"] == "supplement_requested"
    assert asked.json()["supplement_requests"] == 1
    assert embedded_office.central.get(asked.json()["event_id"])["missing"] == missing
    # The officer brings it back (a device event, as the gateway stores it), the handler
    # takes it back into processing, and may not ask a second time at this stage.
    event_id = f"event:{stored.dossier_id}:supplemented:dev-1"
    embedded_office.central.put({
        "_id": event_id, "type": "event", "schema": 1, "id": event_id,
        "dossier": stored.provisional_code, "access": ["officer:officer1", "ward:00004"],
        "kind": "supplemented", "at": dt.datetime.now(dt.UTC).isoformat(),
        "actor": "officer1", "role": "officer"})
    back = post_event(embedded_client, handler, stored.dossier_id, "processing")
    assert back.status_code == 201, back.text
    assert back.json()["event_id"] == f"event:{stored.dossier_id}:processing:2"
    again = post_event(embedded_client, handler, stored.dossier_id, "supplement_requested",
                       missing=["Giấy tờ khác"])
    assert _problem(again, 409) == ("Đã yêu cầu bổ sung một lần ở khâu xử lý; chỉ được "
                                    "hướng dẫn một lần, đầy đủ.")


def test_an_extension_needs_an_apology_a_later_working_day_and_time(
        embedded_client: TestClient[Any], embedded_office: Services) -> None:
    stored = store_received(embedded_office.central, 7)
    handler = login(embedded_client, "handler1")
    for kind in ("accepted", "processing"):
        assert post_event(embedded_client, handler, stored.dossier_id, kind).status_code == 201
    calendar = default_calendar()
    later = calendar.add_working_days(stored.due_date, 3)
    detail = _problem(post_event(embedded_client, handler, stored.dossier_id,
                                 "extension_requested", new_appointment=later.isoformat()), 409)
    assert detail == "Xin gia hạn phải kèm văn bản xin lỗi."
    apology = "Phường xin lỗi ông/bà vì hồ sơ cần thêm thời gian xác minh."
    detail = _problem(post_event(embedded_client, handler, stored.dossier_id,
                                 "extension_requested", apology=apology,
                                 new_appointment=stored.due_date.isoformat()), 409)
    assert detail.startswith("Ngày hẹn mới phải là ngày làm việc sau ngày hẹn hiện tại")
    granted = post_event(embedded_client, handler, stored.dossier_id, "extension_requested",
                         apology=apology, new_appointment=later.isoformat())
    assert granted.status_code == 201, granted.text
    assert granted.json()["due_date"] == later.isoformat()
    assert granted.json()["due_before_extension"] == stored.due_date.isoformat()
    detail = _problem(post_event(embedded_client, handler, stored.dossier_id,
                                 "extension_requested", apology=apology,
                                 new_appointment=calendar.add_working_days(later, 2).isoformat()),
                      409)
    assert detail == "Chỉ được xin gia hạn một lần."


def test_an_extension_asked_too_late_is_refused(embedded_client: TestClient[Any],
                                                embedded_office: Services) -> None:
    # Received long ago: its appointment is already past.
    stored = store_received(embedded_office.central, 8,
                            received_at=dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC))
    handler = login(embedded_client, "handler1")
    for kind in ("accepted", "processing"):
        assert post_event(embedded_client, handler, stored.dossier_id, kind).status_code == 201
    new = default_calendar().add_working_days(dt.date.today(), 5)
    detail = _problem(post_event(embedded_client, handler, stored.dossier_id,
                                 "extension_requested", apology="Xin lỗi ông/bà.",
                                 new_appointment=new.isoformat()), 409)
    assert detail.startswith("Phải xin gia hạn chậm nhất 01 ngày làm việc trước ngày hẹn trả")
    assert f"({stored.due_date:%d/%m/%Y})" in detail


def test_unknown_dossier_kind_and_body_are_refused(embedded_client: TestClient[Any],
                                                   embedded_office: Services) -> None:
    stored = store_received(embedded_office.central, 9)
    handler = login(embedded_client, "handler1")
    assert "Không có hồ sơ" in _problem(
        post_event(embedded_client, handler, "dossier:NOPE", "accepted"), 404)
    assert "không hợp lệ" in _problem(
        post_event(embedded_client, handler, stored.dossier_id, "received"), 400)
    assert "không hợp lệ" in _problem(
        post_event(embedded_client, handler, stored.dossier_id, "approve"), 400)
    bad = embedded_client.post(f"/api/dossiers/{stored.dossier_id}/events",
                               json={"kind": "accepted", "colour": "red"}, headers=handler)
    assert bad.status_code == 400, bad.text


def test_a_second_writer_of_the_same_step_gets_409(embedded_client: TestClient[Any],
                                                   embedded_office: Services) -> None:
    """Another process recorded the step a moment ago, and the register has not seen it:
    the id rule makes the two writes collide instead of both landing."""
    stored = store_received(embedded_office.central, 10)
    handler = login(embedded_client, "handler1")
    first = post_event(embedded_client, handler, stored.dossier_id, "accepted")
    assert first.status_code == 201
    assert post_event(embedded_client, handler, stored.dossier_id, "processing").status_code == 201
    taken = f"event:{stored.dossier_id}:resolved:1"
    embedded_office.central.put({"_id": taken, "type": "note"})  # not an event: unseen
    detail = _problem(post_event(embedded_client, handler, stored.dossier_id, "resolved"), 409)
    assert "đã có người ghi nhận" in detail


def test_concurrent_transitions_of_one_dossier_are_serialised(
        embedded_office: Services) -> None:
    """Eight handlers at once, half recording a withdrawal and half a rejection (each ends
    the dossier): the first to hold the dossier wins, every other one sees the state it left
    and is refused; one event lands. Without the lock, both kinds land (different ids)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from api.auth.service import Identity
    from api.errors import ApiError
    from api.handling.schemas import EventRequest
    from api.handling.service import Handling

    handling = Handling(embedded_office)
    who = Identity("handler1", "handler", "dev-h", ("user:handler1",))
    requests = [EventRequest(kind="withdrawn") if i % 2 else
                EventRequest(kind="rejected", reason="Không đủ điều kiện.") for i in range(8)]
    start = threading.Barrier(len(requests))

    def attempt(dossier_id: str, request: EventRequest) -> int:
        start.wait()  # all at once
        try:
            handling.record_event(who, dossier_id, request)
            return 201
        except ApiError as exc:
            return exc.status

    for n in range(11, 16):
        stored = store_received(embedded_office.central, n)
        with ThreadPoolExecutor(max_workers=len(requests)) as pool:
            statuses = list(pool.map(attempt, [stored.dossier_id] * len(requests), requests))
        assert sorted(statuses) == [201] + [409] * 7, statuses
        written = [row["id"] for row in embedded_office.central.changes(since=0)["results"]
                   if row["id"].startswith(f"event:{stored.dossier_id}:")
                   and not row["id"].endswith(":received")]
        assert len(written) == 1, written


def test_the_routes_are_documented(embedded_client: TestClient[Any]) -> None:
    paths = embedded_client.get("/schema/openapi.json").json()["paths"]
    for path in ("/api/dossiers/{dossier_id}/events", "/api/dossiers/{dossier_id}/result"):
        assert paths[path]["post"]["summary"], path
