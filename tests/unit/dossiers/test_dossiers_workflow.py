"""Every transition rule of the one-stop workflow, per role, and the status fold."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from dossier_helpers import EventFactory

from dossiers.deadlines import DeadlinePolicy
from dossiers.models import Event
from dossiers.workflow import (
    DossierState,
    Status,
    TransitionRefused,
    allowed_events,
    apply,
    check,
    fold,
    portal_status,
)

ROLES = ("officer", "handler", "supervisor")
KINDS = (
    "received", "accepted", "supplement_requested", "supplemented", "rejected", "processing",
    "extension_requested", "resolved", "result_ready", "returned", "withdrawn", "stopped",
)
OFF, HAN, SUP = "officer", "handler", "supervisor"

# The law as this test reads it: (status before, event) -> roles that may record it.
# Any pair not listed is refused for every role.
EXPECTED: dict[tuple[str | None, str], set[str]] = {
    (None, "received"): {OFF, HAN},
    ("received", "accepted"): {HAN},
    ("received", "supplement_requested"): {OFF, HAN},
    ("received", "rejected"): {OFF, HAN},
    ("received", "withdrawn"): {OFF, HAN},
    ("supplement_requested", "supplemented"): {OFF, HAN},
    ("supplement_requested", "withdrawn"): {OFF, HAN},
    ("supplement_requested", "stopped"): {SUP},
    ("supplemented", "accepted"): {HAN},  # supplemented at intake: never accepted before
    ("supplemented", "rejected"): {OFF, HAN, SUP},
    ("supplemented", "withdrawn"): {OFF, HAN},
    ("supplemented", "stopped"): {SUP},
    ("accepted", "processing"): {HAN},
    ("accepted", "supplement_requested"): {HAN},
    ("accepted", "rejected"): {HAN, SUP},
    ("accepted", "withdrawn"): {OFF, HAN},
    ("accepted", "stopped"): {SUP},
    ("processing", "supplement_requested"): {HAN},
    ("processing", "extension_requested"): {HAN, SUP},
    ("processing", "rejected"): {HAN, SUP},
    ("processing", "resolved"): {HAN},
    ("processing", "withdrawn"): {OFF, HAN},
    ("processing", "stopped"): {SUP},
    ("resolved", "result_ready"): {HAN},
    ("result_ready", "returned"): {OFF, HAN},
}

# How to reach each status (received Monday 02/03/2026 10:00; 3 working days → 05/03).
PATHS: dict[str | None, list[tuple[str, str]]] = {
    None: [],
    "received": [("received", OFF)],
    "accepted": [("received", OFF), ("accepted", HAN)],
    "supplement_requested": [("received", OFF), ("supplement_requested", OFF)],
    "supplemented": [("received", OFF), ("supplement_requested", OFF), ("supplemented", OFF)],
    "processing": [("received", OFF), ("accepted", HAN), ("processing", HAN)],
    "resolved": [("received", OFF), ("accepted", HAN), ("processing", HAN), ("resolved", HAN)],
    "result_ready": [
        ("received", OFF), ("accepted", HAN), ("processing", HAN), ("resolved", HAN),
        ("result_ready", HAN),
    ],
    "returned": [
        ("received", OFF), ("accepted", HAN), ("processing", HAN), ("resolved", HAN),
        ("result_ready", HAN), ("returned", OFF),
    ],
    "rejected": [("received", OFF), ("rejected", OFF)],
    "withdrawn": [("received", OFF), ("withdrawn", OFF)],
    "stopped": [("received", OFF), ("accepted", HAN), ("stopped", SUP)],
}


def content(kind: str) -> dict[str, Any]:
    """A well-formed body for each kind, so only the table decides."""
    return {
        "rejected": {"reason": "Không thuộc thẩm quyền"},
        "stopped": {"reason": "Công dân không bổ sung"},
        "withdrawn": {"reason": "Công dân đề nghị rút"},
        "supplement_requested": {"missing": ("Giấy báo tử",)},
        "extension_requested": {
            "apology": "Xin lỗi ông/bà vì chậm trả kết quả.",
            "new_appointment": dt.date(2026, 3, 10),
        },
    }.get(kind, {})


def reach(status: str | None, event: EventFactory, policy: DeadlinePolicy) -> DossierState:
    state = DossierState()
    for hour, (kind, role) in enumerate(PATHS[status]):
        state = apply(
            state, event(kind, f"2026-03-02 {10 + hour:02d}:00", role, **content(kind)), policy
        )
    assert state.status == (Status(status) if status else None)
    return state


def test_every_reachable_status_has_a_path() -> None:
    assert set(PATHS) == {None, *(s.value for s in Status)}


@pytest.mark.parametrize("status", list(PATHS))
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ROLES)
def test_transition_table(
    status: str | None, kind: str, role: str, event: EventFactory, policy: DeadlinePolicy
) -> None:
    state = reach(status, event, policy)
    attempt = event(kind, "2026-03-02 17:00", role, **content(kind))
    refusal = check(state, attempt, policy)
    if role in EXPECTED.get((status, kind), set()):
        assert refusal is None
        assert apply(state, attempt, policy).status is not None
    else:
        assert refusal is not None
        assert refusal.reason  # a Vietnamese reason, never empty
        with pytest.raises(TransitionRefused):
            apply(state, attempt, policy)


def test_refusal_names_the_role_or_the_status(event: EventFactory, policy: DeadlinePolicy) -> None:
    state = reach("received", event, policy)
    by_officer = check(state, event("accepted", "2026-03-02 12:00", OFF), policy)
    assert by_officer is not None
    assert by_officer.reason == (
        "Vai trò cán bộ tiếp nhận không được chấp nhận hồ sơ; chỉ cán bộ xử lý."
    )
    returned = check(state, event("returned", "2026-03-02 12:00", OFF), policy)
    assert returned is not None
    assert "«Mới tiếp nhận»" in returned.reason
    empty = check(DossierState(), event("accepted", "2026-03-02 12:00", HAN), policy)
    assert empty is not None and "chưa được tiếp nhận" in empty.reason


@pytest.mark.parametrize(
    ("status", "kind", "body", "message"),
    [
        ("received", "rejected", {}, "lý do"),
        ("received", "rejected", {"reason": "   "}, "lý do"),
        ("accepted", "stopped", {}, "lý do"),
        ("received", "supplement_requested", {}, "liệt kê đầy đủ"),
        ("received", "supplement_requested", {"missing": (" ",)}, "liệt kê đầy đủ"),
        ("processing", "extension_requested", {"new_appointment": dt.date(2026, 3, 10)}, "xin lỗi"),
        ("processing", "extension_requested", {"apology": "Xin lỗi"}, "ngày hẹn trả mới"),
    ],
)
def test_events_missing_their_content_are_refused(
    status: str, kind: str, body: dict[str, Any], message: str,
    event: EventFactory, policy: DeadlinePolicy,
) -> None:
    state = reach(status, event, policy)
    role = SUP if kind == "stopped" else HAN
    refusal = check(state, event(kind, "2026-03-02 17:00", role, **body), policy)
    assert refusal is not None and message in refusal.reason


def test_one_supplement_request_per_stage(event: EventFactory, policy: DeadlinePolicy) -> None:
    state = reach("supplemented", event, policy)  # asked once at intake
    again = event("supplement_requested", "2026-03-03 09:00", OFF, missing=("Tờ khai",))
    assert check(state, again, policy) is not None  # no second request at intake
    # Once accepted, processing may ask once more (which makes the dossier late).
    state = apply(state, event("accepted", "2026-03-03 09:00", HAN), policy)
    state = apply(state, event("processing", "2026-03-03 10:00", HAN), policy)
    second = event("supplement_requested", "2026-03-03 11:00", HAN, missing=("Trích lục",))
    state = apply(state, second, policy)
    assert state.supplement_requests == 2
    state = apply(state, event("supplemented", "2026-03-04 09:00", OFF), policy)
    assert state.status is Status.SUPPLEMENTED and state.accepted
    # Supplemented after acceptance goes back to processing, not to acceptance.
    refusal = check(state, event("accepted", "2026-03-04 10:00", HAN), policy)
    assert refusal is not None and "đã được tiếp nhận" in refusal.reason
    state = apply(state, event("processing", "2026-03-04 10:00", HAN), policy)
    third = event("supplement_requested", "2026-03-04 11:00", HAN, missing=("Khác",))
    refusal = check(state, third, policy)
    assert refusal is not None and "một lần" in refusal.reason


def test_supplemented_at_intake_must_be_accepted_before_processing(
    event: EventFactory, policy: DeadlinePolicy
) -> None:
    state = reach("supplemented", event, policy)
    refusal = check(state, event("processing", "2026-03-03 09:00", HAN), policy)
    assert refusal is not None and "chấp nhận trước" in refusal.reason


def _processing_since(received: str, event: EventFactory, policy: DeadlinePolicy) -> DossierState:
    day = received[:10]
    state = apply(DossierState(), event("received", received, OFF), policy)
    state = apply(state, event("accepted", f"{day} 11:00", HAN), policy)
    return apply(state, event("processing", f"{day} 11:30", HAN), policy)


EXTENSION_CASES = [
    # received, request at, new date, refused with (None = allowed)
    ("2026-03-02 10:00", "2026-03-04 16:59", "2026-03-10", None),  # due 05/03, last day 04/03
    ("2026-03-02 10:00", "2026-03-05 08:00", "2026-03-10", "chậm nhất 01 ngày làm việc"),
    ("2026-03-02 10:00", "2026-03-03 08:00", "2026-03-05", "sau ngày hẹn hiện tại"),
    ("2026-03-02 10:00", "2026-03-03 08:00", "2026-03-07", "sau ngày hẹn hiện tại"),  # Saturday
    # Received 12/02/2026, due 24/02 after Tết: the last day to ask is Monday 23/02.
    ("2026-02-12 10:00", "2026-02-23 16:00", "2026-02-27", None),
    ("2026-02-12 10:00", "2026-02-24 08:00", "2026-02-27", "chậm nhất 01 ngày làm việc"),
    ("2026-02-12 10:00", "2026-02-13 09:00", "2026-02-20", "sau ngày hẹn hiện tại"),  # Tết
    # 2030: received Wednesday 30/01, due Monday 11/02 across Tết; the last day is 08/02.
    ("2030-01-30 10:00", "2030-02-08 15:00", "2030-02-12", None),
    ("2030-01-30 10:00", "2030-02-11 09:00", "2030-02-12", "chậm nhất 01 ngày làm việc"),
    ("2030-01-30 10:00", "2030-02-01 09:00", "2030-02-06", "sau ngày hẹn hiện tại"),
]


@pytest.mark.parametrize(("received", "at", "new", "refused"), EXTENSION_CASES)
def test_extension_rules(
    received: str, at: str, new: str, refused: str | None,
    event: EventFactory, policy: DeadlinePolicy,
) -> None:
    state = _processing_since(received, event, policy)
    body = {"apology": "Xin lỗi ông/bà.", "new_appointment": dt.date.fromisoformat(new)}
    refusal = check(state, event("extension_requested", at, HAN, **body), policy)
    if refused is None:
        assert refusal is None
    else:
        assert refusal is not None and refused in refusal.reason


def test_extension_only_once(event: EventFactory, policy: DeadlinePolicy) -> None:
    state = _processing_since("2026-03-02 10:00", event, policy)
    body = {"apology": "Xin lỗi.", "new_appointment": dt.date(2026, 3, 10)}
    state = apply(state, event("extension_requested", "2026-03-03 09:00", HAN, **body), policy)
    assert state.extended and state.due_date == dt.date(2026, 3, 10)
    assert state.due_before_extension == dt.date(2026, 3, 5)
    later = {"apology": "Xin lỗi lần nữa.", "new_appointment": dt.date(2026, 3, 13)}
    refusal = check(state, event("extension_requested", "2026-03-04 09:00", HAN, **later), policy)
    assert refusal is not None and refusal.reason == "Chỉ được xin gia hạn một lần."


def test_an_event_earlier_than_the_last_is_refused(
    event: EventFactory, policy: DeadlinePolicy
) -> None:
    state = reach("accepted", event, policy)
    refusal = check(state, event("processing", "2026-03-02 09:00", HAN), policy)
    assert refusal is not None and "sớm hơn" in refusal.reason


def test_fold_orders_events_and_records_refusals(
    event: EventFactory, policy: DeadlinePolicy
) -> None:
    events = [
        event("received", "2026-03-02 10:00", OFF),
        event("accepted", "2026-03-02 11:00", OFF),  # illegal: officers do not accept
        event("accepted", "2026-03-02 12:00", HAN),
        event("processing", "2026-03-02 13:00", HAN),
        event("resolved", "2026-03-04 09:00", HAN),
    ]
    shuffled = events[:]
    random.Random(4).shuffle(shuffled)
    state = fold(shuffled, policy)
    assert state.status is Status.RESOLVED
    assert [e.id for e in state.applied] == [events[i].id for i in (0, 2, 3, 4)]
    assert [r.event_id for r in state.refused] == [events[1].id]
    assert state == fold(events, policy)


PORTAL_CODES = {
    "received": 1, "accepted": 2, "rejected": 3, "processing": 4, "supplement_requested": 5,
    "withdrawn": 7, "stopped": 8, "resolved": 9, "result_ready": 9, "returned": 10,
    "supplemented": 1,  # supplemented at intake: back to "Mới đăng ký"
}


@pytest.mark.parametrize(("status", "code"), PORTAL_CODES.items())
def test_portal_status_codes(
    status: str, code: int, event: EventFactory, policy: DeadlinePolicy
) -> None:
    assert portal_status(reach(status, event, policy)) == code


def test_portal_status_of_supplement_during_processing(
    event: EventFactory, policy: DeadlinePolicy
) -> None:
    state = reach("processing", event, policy)
    ask = event("supplement_requested", "2026-03-03 09:00", HAN, missing=("A",))
    state = apply(state, ask, policy)
    assert portal_status(state) == 5
    state = apply(state, event("supplemented", "2026-03-03 10:00", OFF), policy)
    assert portal_status(state) == 4


def test_allowed_events_per_role(event: EventFactory, policy: DeadlinePolicy) -> None:
    state = reach("received", event, policy)
    officer = set(allowed_events(state, "officer"))
    assert officer == {"supplement_requested", "rejected", "withdrawn"}
    assert "accepted" in allowed_events(state, "handler")
    assert allowed_events(state, "supervisor") == []


def test_reached_keeps_the_first_time(event: EventFactory, policy: DeadlinePolicy) -> None:
    state = _processing_since("2026-03-02 10:00", event, policy)
    first = state.reached["processing"]
    ask = event("supplement_requested", "2026-03-03 09:00", HAN, missing=("A",))
    state = apply(state, ask, policy)
    state = apply(state, event("supplemented", "2026-03-03 10:00", OFF), policy)
    state = apply(state, event("processing", "2026-03-03 11:00", HAN), policy)
    assert state.reached["processing"] == first
    assert isinstance(state.applied[-1], Event)


def test_naive_event_times_are_refused_not_guessed(
    event: EventFactory, policy: DeadlinePolicy
) -> None:
    import msgspec

    received = event("received", "2026-03-02 10:00", OFF)
    naive = msgspec.structs.replace(
        event("accepted", "2026-03-02 11:00", HAN), at=dt.datetime(2026, 3, 2, 11, 0)
    )
    refusal = check(fold([received], policy), naive, policy)
    assert refusal is not None and "múi giờ" in refusal.reason
    state = fold([naive, received], policy)
    assert state.status is Status.RECEIVED
    assert [r.event_id for r in state.refused] == [naive.id]
