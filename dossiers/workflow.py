"""The one-stop workflow: a dossier's status is a fold over its append-only events.

Rules (Decree 61/2018 Arts 17–20, kept by Decree 118/2025; the table below is the first):
1. `TRANSITIONS` says, for each (current status, event kind), the next status and the roles
   that may record it. The first event of every dossier is `received`.
2. A supplement request lists everything missing (at least one item) in one request; at
   most one request at intake (before acceptance) and one after acceptance. A second
   request is allowed by law but makes the dossier late (see `deadlines.classify`).
3. A supplemented dossier returns to intake if it was never accepted, else to processing;
   the deadline restarts from the moment the complete dossier arrives.
4. Rejection and stopping need a reason.
5. An extension is requested once only, during processing, at least one working day before
   the current appointment date, with an apology and a new date (a working day after the
   current one).
6. Events are applied in time order; an event earlier than the last applied one is refused.
A refused event changes nothing: `check` returns the reason (Vietnamese), `fold` records it
in `DossierState.refused` so a conflict is shown, never silently dropped.
Status maps onto the national portal's TrangThaiHoSo codes 1–10 (`portal_status`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING

import msgspec

from dossiers.errors import DossierError
from dossiers.models import Event, EventKind, Role

if TYPE_CHECKING:
    from dossiers.deadlines import DeadlinePolicy


class Status(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    SUPPLEMENTED = "supplemented"
    REJECTED = "rejected"
    PROCESSING = "processing"
    RESOLVED = "resolved"
    RESULT_READY = "result_ready"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"
    STOPPED = "stopped"


S = Status
_OFFICER: frozenset[Role] = frozenset({"officer"})
_HANDLER: frozenset[Role] = frozenset({"handler"})
_SUPERVISOR: frozenset[Role] = frozenset({"supervisor"})
_FRONT: frozenset[Role] = frozenset({"officer", "handler"})
_BACK: frozenset[Role] = frozenset({"handler", "supervisor"})

# (current status or None for a new dossier, event) -> (next status, roles allowed)
TRANSITIONS: dict[tuple[Status | None, EventKind], tuple[Status, frozenset[Role]]] = {
    (None, "received"): (S.RECEIVED, _FRONT),
    (S.RECEIVED, "accepted"): (S.ACCEPTED, _HANDLER),
    (S.RECEIVED, "supplement_requested"): (S.SUPPLEMENT_REQUESTED, _FRONT),
    (S.RECEIVED, "rejected"): (S.REJECTED, _FRONT),
    (S.RECEIVED, "withdrawn"): (S.WITHDRAWN, _FRONT),
    (S.SUPPLEMENT_REQUESTED, "supplemented"): (S.SUPPLEMENTED, _FRONT),
    (S.SUPPLEMENT_REQUESTED, "withdrawn"): (S.WITHDRAWN, _FRONT),
    (S.SUPPLEMENT_REQUESTED, "stopped"): (S.STOPPED, _SUPERVISOR),
    (S.SUPPLEMENTED, "accepted"): (S.ACCEPTED, _HANDLER),
    (S.SUPPLEMENTED, "processing"): (S.PROCESSING, _HANDLER),
    (S.SUPPLEMENTED, "rejected"): (S.REJECTED, _FRONT | _SUPERVISOR),
    (S.SUPPLEMENTED, "withdrawn"): (S.WITHDRAWN, _FRONT),
    (S.SUPPLEMENTED, "stopped"): (S.STOPPED, _SUPERVISOR),
    (S.ACCEPTED, "processing"): (S.PROCESSING, _HANDLER),
    (S.ACCEPTED, "supplement_requested"): (S.SUPPLEMENT_REQUESTED, _HANDLER),
    (S.ACCEPTED, "rejected"): (S.REJECTED, _BACK),
    (S.ACCEPTED, "withdrawn"): (S.WITHDRAWN, _FRONT),
    (S.ACCEPTED, "stopped"): (S.STOPPED, _SUPERVISOR),
    (S.PROCESSING, "supplement_requested"): (S.SUPPLEMENT_REQUESTED, _HANDLER),
    (S.PROCESSING, "extension_requested"): (S.PROCESSING, _BACK),
    (S.PROCESSING, "rejected"): (S.REJECTED, _BACK),
    (S.PROCESSING, "resolved"): (S.RESOLVED, _HANDLER),
    (S.PROCESSING, "withdrawn"): (S.WITHDRAWN, _FRONT),
    (S.PROCESSING, "stopped"): (S.STOPPED, _SUPERVISOR),
    (S.RESOLVED, "result_ready"): (S.RESULT_READY, _HANDLER),
    (S.RESULT_READY, "returned"): (S.RETURNED, _FRONT),
}

# TrangThaiHoSo on the Cổng DVCQG. 6 ("nghĩa vụ tài chính") has no event of its own here.
PORTAL_STATUS: dict[Status, int] = {
    S.RECEIVED: 1,
    S.ACCEPTED: 2,
    S.REJECTED: 3,
    S.PROCESSING: 4,
    S.SUPPLEMENT_REQUESTED: 5,
    S.WITHDRAWN: 7,
    S.STOPPED: 8,
    S.RESOLVED: 9,
    S.RESULT_READY: 9,
    S.RETURNED: 10,
}

STATUS_LABELS: dict[Status, str] = {
    S.RECEIVED: "Mới tiếp nhận",
    S.ACCEPTED: "Được tiếp nhận",
    S.SUPPLEMENT_REQUESTED: "Yêu cầu bổ sung hồ sơ",
    S.SUPPLEMENTED: "Đã bổ sung hồ sơ",
    S.REJECTED: "Không được tiếp nhận / từ chối giải quyết",
    S.PROCESSING: "Đang xử lý",
    S.RESOLVED: "Đã xử lý xong",
    S.RESULT_READY: "Có kết quả, chờ trả",
    S.RETURNED: "Đã trả kết quả",
    S.WITHDRAWN: "Công dân rút hồ sơ",
    S.STOPPED: "Dừng xử lý",
}

ROLE_LABELS: dict[str, str] = {
    "officer": "cán bộ tiếp nhận",
    "handler": "cán bộ xử lý",
    "supervisor": "lãnh đạo",
}
EVENT_LABELS: dict[str, str] = {
    "received": "tiếp nhận",
    "accepted": "chấp nhận hồ sơ",
    "supplement_requested": "yêu cầu bổ sung",
    "supplemented": "ghi nhận bổ sung",
    "rejected": "từ chối",
    "processing": "chuyển xử lý",
    "extension_requested": "xin gia hạn",
    "resolved": "ghi nhận đã xử lý xong",
    "result_ready": "ghi nhận có kết quả",
    "returned": "trả kết quả",
    "withdrawn": "rút hồ sơ",
    "stopped": "dừng xử lý",
}


_NAIVE_TIME = "Thời điểm của sự kiện phải kèm múi giờ."


class Refusal(msgspec.Struct, frozen=True):
    event_id: str
    kind: str
    reason: str


class TransitionRefused(DossierError):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.reason, field="kind")
        self.refusal = refusal


class DossierState(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the events say about a dossier, as of the last applied event."""

    status: Status | None = None
    accepted: bool = False
    received_at: dt.datetime | None = None
    clock_started_at: dt.datetime | None = None
    due_date: dt.date | None = None
    due_before_extension: dt.date | None = None
    extended: bool = False
    supplement_requests: int = 0
    supplement_stages: frozenset[str] = frozenset()
    open_supplement_at: dt.datetime | None = None
    reached: dict[str, dt.datetime] = {}
    due_changes: tuple[tuple[str, dt.date], ...] = ()
    last_event_at: dt.datetime | None = None
    applied: tuple[Event, ...] = ()
    refused: tuple[Refusal, ...] = ()


def check(state: DossierState, event: Event, policy: DeadlinePolicy) -> Refusal | None:
    """Why `event` may not follow `state`, or None when it may."""
    if _naive(event.at):
        return Refusal(event.id, event.kind, _NAIVE_TIME)
    reason = _table_reason(state, event) or _guard_reason(state, event, policy)
    return Refusal(event.id, event.kind, reason) if reason else None


def _table_reason(state: DossierState, event: Event) -> str | None:
    rule = TRANSITIONS.get((state.status, event.kind))
    action = EVENT_LABELS[event.kind]
    if rule is None:
        if state.status is None:
            return f"Không thể {action}: hồ sơ chưa được tiếp nhận."
        return f"Không thể {action} khi hồ sơ đang ở trạng thái «{STATUS_LABELS[state.status]}»."
    if event.role not in rule[1]:
        allowed = ", ".join(sorted(ROLE_LABELS[r] for r in rule[1]))
        return f"Vai trò {ROLE_LABELS[event.role]} không được {action}; chỉ {allowed}."
    if state.last_event_at is not None and event.at < state.last_event_at:
        return f"Không thể {action}: thời điểm sớm hơn sự kiện trước của hồ sơ."
    return None


def _guard_reason(state: DossierState, event: Event, policy: DeadlinePolicy) -> str | None:
    kind = event.kind
    if kind in ("rejected", "stopped") and not (event.reason or "").strip():
        return f"Phải ghi rõ lý do khi {EVENT_LABELS[kind]}."
    if kind == "supplement_requested":
        return _supplement_reason(state, event)
    if kind == "accepted" and state.accepted:
        return "Hồ sơ đã được tiếp nhận trước đó; sau khi bổ sung phải chuyển xử lý."
    if kind == "processing" and state.status is S.SUPPLEMENTED and not state.accepted:
        return "Hồ sơ bổ sung ở khâu tiếp nhận phải được chấp nhận trước khi chuyển xử lý."
    if kind == "extension_requested":
        return _extension_reason(state, event, policy)
    return None


def _supplement_reason(state: DossierState, event: Event) -> str | None:
    if not [item for item in event.missing if item.strip()]:
        return "Yêu cầu bổ sung phải liệt kê đầy đủ, một lần, mọi giấy tờ còn thiếu."
    stage = "processing" if state.accepted else "intake"
    if stage in state.supplement_stages:
        where = "xử lý" if state.accepted else "tiếp nhận"
        return f"Đã yêu cầu bổ sung một lần ở khâu {where}; chỉ được hướng dẫn một lần, đầy đủ."
    return None


def _extension_reason(state: DossierState, event: Event, policy: DeadlinePolicy) -> str | None:
    if state.extended:
        return "Chỉ được xin gia hạn một lần."
    if not (event.apology or "").strip():
        return "Xin gia hạn phải kèm văn bản xin lỗi."
    due = state.due_date
    new = event.new_appointment
    if due is None or new is None:
        return "Xin gia hạn phải nêu ngày hẹn trả mới."
    latest = policy.calendar.previous_before(due)
    if policy.local_date(event.at) > latest:
        return (
            "Phải xin gia hạn chậm nhất 01 ngày làm việc trước ngày hẹn trả "
            f"({due:%d/%m/%Y}), tức là chậm nhất trong ngày {latest:%d/%m/%Y}."
        )
    if new <= due or not policy.calendar.is_working_day(new):
        return f"Ngày hẹn mới phải là ngày làm việc sau ngày hẹn hiện tại ({due:%d/%m/%Y})."
    return None


def apply(state: DossierState, event: Event, policy: DeadlinePolicy) -> DossierState:
    """The state after `event`; raises `TransitionRefused` with the reason when refused."""
    refusal = check(state, event, policy)
    if refusal is not None:
        raise TransitionRefused(refusal)
    next_status, _ = TRANSITIONS[(state.status, event.kind)]
    changes: dict[str, object] = {
        "status": next_status,
        "last_event_at": event.at,
        "applied": (*state.applied, event),
        "reached": {next_status.value: event.at, **state.reached},
    }
    changes.update(_effects(state, event, policy))
    new_due = changes.get("due_date")
    if isinstance(new_due, dt.date):
        changes["due_changes"] = (*state.due_changes, (event.id, new_due))
    return msgspec.structs.replace(state, **changes)


def _effects(state: DossierState, event: Event, policy: DeadlinePolicy) -> dict[str, object]:
    """The bookkeeping beyond the status: clocks, counters, flags."""
    kind = event.kind
    if kind == "received":
        due = policy.due(event.at)
        return {
            "received_at": event.at,
            "clock_started_at": event.at,
            "due_date": due,
            "due_before_extension": due,
        }
    if kind == "accepted":
        return {"accepted": True}
    if kind == "supplement_requested":
        stage = "processing" if state.accepted else "intake"
        return {
            "supplement_requests": state.supplement_requests + 1,
            "supplement_stages": state.supplement_stages | {stage},
            "open_supplement_at": event.at,
        }
    if kind == "supplemented":
        # The clock restarts from the day the complete dossier arrives (Decree 61 Art 19).
        due = policy.due(event.at)
        return {
            "open_supplement_at": None,
            "clock_started_at": event.at,
            "due_date": due,
            "due_before_extension": due,
        }
    if kind == "extension_requested":
        return {"extended": True, "due_date": event.new_appointment}
    return {}


def fold(events: Iterable[Event], policy: DeadlinePolicy) -> DossierState:
    """The state a dossier's events lead to, applied in time order (ties by event id).

    A refused event is recorded in `refused` and skipped, so a conflicting or illegal event
    that reached the store is shown to people rather than lost or allowed.
    """
    events = list(events)
    # A naive time cannot be ordered against the others: refuse such events before sorting.
    state = DossierState(
        refused=tuple(Refusal(e.id, e.kind, _NAIVE_TIME) for e in events if _naive(e.at))
    )
    for event in sorted((e for e in events if not _naive(e.at)), key=lambda e: (e.at, e.id)):
        refusal = check(state, event, policy)
        if refusal is None:
            state = apply(state, event, policy)
        else:
            state = msgspec.structs.replace(state, refused=(*state.refused, refusal))
    return state


def _naive(moment: dt.datetime) -> bool:
    return moment.tzinfo is None or moment.utcoffset() is None


def portal_status(state: DossierState) -> int:
    """TrangThaiHoSo (1–10) for the national portal."""
    if state.status is None:
        raise DossierError("Hồ sơ chưa có sự kiện tiếp nhận nào.", field="status")
    if state.status is S.SUPPLEMENTED:
        # Back at intake (1) or back in processing (4), depending on where it was asked.
        return 4 if state.accepted else 1
    return PORTAL_STATUS[state.status]


def allowed_events(state: DossierState, role: Role) -> list[EventKind]:
    """The event kinds `role` may record next, before guards that need the event's content."""
    return [
        kind
        for (status, kind), (_, roles) in TRANSITIONS.items()
        if status == state.status and role in roles
    ]
