"""Pure handling decisions: who may record, which id and access an event gets, and which
HTTP answer a refusal becomes (403 for the role, 409 for the state or a rule)."""

from __future__ import annotations

import datetime as dt

import pytest

from api.errors import ConflictError, InvalidInput, NotAllowed
from api.handling import decisions
from api.handling.schemas import EventRequest
from dossiers.models import Event
from dossiers.workflow import DossierState, Refusal, Status

AT = dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.UTC)
DOSSIER = {"provisional_code": "TT-DEV01-000001", "procedure_code": "1.001776",
           "access": ["officer:officer1", "ward:00004"]}


@pytest.mark.parametrize("role", ["handler", "supervisor"])
def test_back_office_roles_may_record(role: str) -> None:
    assert decisions.back_office_role(role) == role


@pytest.mark.parametrize("role", ["officer", "admin", "", "root"])
def test_other_roles_are_refused_in_vietnamese(role: str) -> None:
    with pytest.raises(NotAllowed, match="cán bộ xử lý hoặc lãnh đạo"):
        decisions.back_office_role(role)


@pytest.mark.parametrize("kind", ["received", "approve", "", "ACCEPTED"])
def test_unknown_or_intake_only_kinds_are_bad_input(kind: str) -> None:
    with pytest.raises(InvalidInput, match="không hợp lệ"):
        decisions.event_kind(kind)


def _event(kind: str, role: str = "handler", n: int = 1) -> Event:
    return decisions.build_event(DOSSIER, "dossier:TT-DEV01-000001",
                                 EventRequest(kind=kind, reason="  Lý do\u0301  ",
                                              missing=["A", "  ", "B "]),
                                 actor="handler1", role=role, at=AT, n=n)  # type: ignore[arg-type]


def test_an_event_has_the_id_rule_access_and_clean_text() -> None:
    event = _event("supplement_requested", n=2)
    assert event.id == "event:dossier:TT-DEV01-000001:supplement_requested:2"
    assert event.dossier == "TT-DEV01-000001"
    assert event.access == ("officer:officer1", "ward:00004", "queue:procedure:1.001776")
    assert event.missing == ("A", "B")
    assert event.reason == "Lý dó"  # stripped and NFC (o + combining acute -> ó)


def test_the_number_counts_events_of_the_same_kind() -> None:
    events = [_event("processing"), _event("accepted"), _event("processing")]
    assert decisions.next_number(events, "processing") == 3
    assert decisions.next_number(events, "resolved") == 1


def test_access_is_not_duplicated() -> None:
    assert decisions.event_access(["officer:o1", "queue:procedure:1.1"], "1.1") == (
        "officer:o1", "queue:procedure:1.1")


def test_a_step_of_another_role_is_403_a_step_of_another_state_is_409() -> None:
    received = DossierState(status=Status.RECEIVED)
    refusal = Refusal("e", "accepted", "vai trò")
    assert isinstance(decisions.refused(received, _event("accepted", "supervisor"), refusal),
                      NotAllowed)
    processing = DossierState(status=Status.PROCESSING)
    assert isinstance(decisions.refused(processing, _event("accepted"), refusal), ConflictError)
    # A rule (not the role) refusing an allowed step is a 409 too.
    assert isinstance(decisions.refused(received, _event("rejected"), refusal), ConflictError)


@pytest.mark.parametrize(("status", "words"), [
    (None, "«chưa tiếp nhận»"),
    (Status.PROCESSING, "«Đang xử lý»"),
    (Status.RESULT_READY, "không thể thay thế"),
    (Status.RETURNED, "không thể thay thế"),
])
def test_a_result_is_uploaded_only_while_resolved(status: Status | None, words: str) -> None:
    state = DossierState(status=status) if status is not None else None
    refusal = decisions.result_upload_refusal(state)
    assert refusal is not None and words in refusal.message
    assert decisions.result_upload_refusal(DossierState(status=Status.RESOLVED)) is None


def test_result_ready_needs_a_result() -> None:
    assert decisions.result_ready_refusal(True) is None
    refusal = decisions.result_ready_refusal(False)
    assert refusal is not None and "Chưa có kết quả" in refusal.message


def test_the_result_document_carries_the_dossiers_access() -> None:
    doc = decisions.result_document(DOSSIER, "dossier:TT-DEV01-000001", official_code="X",
                                    sealed_at=AT, sealed_by="handler1", authority="UBND",
                                    certificate_serial="AB")
    assert doc["_id"] == "result:dossier:TT-DEV01-000001" and doc["type"] == "result"
    assert doc["access"] == ["officer:officer1", "ward:00004", "queue:procedure:1.001776"]
    assert doc["dossier"] == "TT-DEV01-000001" and doc["sealed_at"] == AT.isoformat()


def test_every_seal_refusal_has_a_vietnamese_message() -> None:
    codes = {"not_pdf", "unreadable", "encrypted", "no_page", "page_too_small"}
    assert set(decisions.SEAL_MESSAGES) == codes
