"""Synced dossiers written straight into a central database, as intake would leave them.

No PDFs: the register reads documents, not signatures, so the intake outcome is written
directly (`outcome="received"` with official code and appointment, or "needs_attention"
with reasons). Documents are written with `_bulk_docs` in batches, fast enough for
100,000 dossiers.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from dossiers.calendar import LOCAL_TZ, default_calendar
from dossiers.catalogue import load_catalogue
from dossiers.examples import example_dossier

AGENCY = "000.00.01.H22"
PROCEDURES = ("1.000419", "1.001776", "2.000635")
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng")
MIDDLE = ("Thị", "Văn", "Đức", "Minh", "Ngọc", "Hữu")
GIVEN = ("An", "Bình", "Cường", "Dung", "Giang", "Hường", "Khánh", "Lan", "Mai", "Nam",
         "Oanh", "Phúc", "Quân", "Sơn", "Thảo", "Uyên", "Vân", "Xuân", "Yến", "Đào")


@functools.cache
def _template(procedure: str) -> dict[str, Any]:
    received = dt.datetime(2026, 3, 2, 9, 0, tzinfo=LOCAL_TZ)
    dossier = example_dossier(load_catalogue(), procedure, received_at=received,
                              calendar=default_calendar())
    data: dict[str, Any] = msgspec.to_builtins(dossier)
    data.pop("official_code", None)
    return data


@dataclass
class Spec:
    """One dossier to store, and what has happened to it."""

    n: int
    received_at: dt.datetime
    procedure: str = PROCEDURES[0]
    officer: str = "officer1"
    ward: str = "00004"
    name: str = "Nguyễn Thị Hường"
    identity: str | None = None
    outcome: str | None = "received"  # None: intake not done yet
    reasons: tuple[str, ...] = ()
    events: Sequence[tuple[str, dt.datetime, dict[str, Any]]] = field(default_factory=list)
    device: str = "DEV01"

    @property
    def code(self) -> str:
        return f"{self.device}-{self.n:06d}"

    @property
    def dossier_id(self) -> str:
        return f"dossier:{self.code}"


def dossier_doc(spec: Spec) -> dict[str, Any]:
    data = dict(_template(spec.procedure))
    applicant = {**data["applicant"], "full_name": spec.name,
                 "identity_number": spec.identity or f"0010{spec.n % 100:02d}{spec.n:06d}"}
    return {**data, "_id": spec.dossier_id, "provisional_code": spec.code,
            "applicant": applicant, "officer_id": spec.officer,
            "access": [f"officer:{spec.officer}", f"ward:{spec.ward}"],
            "received_at": spec.received_at.isoformat()}


def event_doc(spec: Spec, kind: str, at: dt.datetime, extra: dict[str, Any],
              role: str = "handler", seq: int = 1) -> dict[str, Any]:
    event_id = f"event:{spec.dossier_id}:{kind}:{seq}"
    return {"_id": event_id, "type": "event", "schema": 1, "id": event_id,
            "access": [f"officer:{spec.officer}", f"ward:{spec.ward}",
                       f"queue:procedure:{spec.procedure}"],
            "dossier": spec.code, "kind": kind, "at": at.isoformat(),
            "actor": extra.pop("actor", "handler1"), "role": extra.pop("role", role), **extra}


def received_event(spec: Spec) -> dict[str, Any]:
    at = spec.received_at + dt.timedelta(minutes=5)
    event_id = f"event:{spec.dossier_id}:received"
    return {"_id": event_id, "type": "event", "schema": 1, "id": event_id,
            "access": [f"officer:{spec.officer}", f"ward:{spec.ward}",
                       f"queue:procedure:{spec.procedure}"],
            "dossier": spec.code, "kind": "received", "at": at.isoformat(),
            "actor": "intake", "role": "officer"}


def outcome_doc(spec: Spec) -> dict[str, Any]:
    base = {"_id": f"intake:{spec.dossier_id}", "type": "intake-outcome", "schema": 1,
            "dossier_id": spec.dossier_id, "dossier": spec.code,
            "access": [f"officer:{spec.officer}", f"ward:{spec.ward}"],
            "processed_at": (spec.received_at + dt.timedelta(minutes=5)).isoformat()}
    if spec.outcome == "needs_attention":
        return {**base, "status": "needs_attention",
                "reasons": list(spec.reasons) or ["Chữ ký số không hợp lệ."]}
    day = spec.received_at.astimezone(LOCAL_TZ).date()
    return {**base, "status": "received",
            "official_code": f"{AGENCY}-{day:%y%m%d}-{spec.n % 10000:04d}",
            "received_at": spec.received_at.isoformat(),
            "appointment_date": appointment(spec).isoformat(), "reasons": [],
            "queue": f"queue:procedure:{spec.procedure}"}


def appointment(spec: Spec) -> dt.date:
    """The appointment intake would fix: the procedure's time limit from the receipt."""
    version = load_catalogue().get(spec.procedure).latest
    limit = version.time_limit.for_form(_template(spec.procedure)["form"])
    return default_calendar().due_date(spec.received_at, limit)


def documents(spec: Spec) -> Iterator[dict[str, Any]]:
    """The dossier and what intake and handlers wrote about it, in write order."""
    yield dossier_doc(spec)
    if spec.outcome == "received":
        yield received_event(spec)
    if spec.outcome is not None:
        yield outcome_doc(spec)
    counts: dict[str, int] = {}
    for kind, at, extra in spec.events:
        counts[kind] = counts.get(kind, 0) + 1
        yield event_doc(spec, kind, at, dict(extra), seq=counts[kind])


def store(central: Any, specs: Sequence[Spec], batch: int = 1000) -> None:
    pending: list[dict[str, Any]] = []
    for spec in specs:
        pending.extend(documents(spec))
        if len(pending) >= batch:
            _write(central, pending)
            pending = []
    if pending:
        _write(central, pending)


def _write(central: Any, docs: list[dict[str, Any]]) -> None:
    for answer in central.bulk_docs(docs):
        if "error" in answer:
            raise AssertionError(f"not stored: {answer}")


def name_for(n: int) -> str:
    return (f"{FAMILY[n % len(FAMILY)]} {MIDDLE[(n // 10) % len(MIDDLE)]} "
            f"{GIVEN[(n // 60) % len(GIVEN)]}")


def many(count: int, start: dt.datetime, *, device: str = "BULK01") -> Iterator[Spec]:
    """`count` dossiers spread over officers, wards, procedures and receipt days; every
    fourth one accepted then in processing (two more events): ≈ 3.5 documents a dossier."""
    for n in range(count):
        received = start + dt.timedelta(hours=n % 2000)
        events: list[tuple[str, dt.datetime, dict[str, Any]]] = []
        if n % 4 == 0:
            events = [("accepted", received + dt.timedelta(hours=1), {}),
                      ("processing", received + dt.timedelta(hours=2), {})]
        yield Spec(n=n, received_at=received, procedure=PROCEDURES[n % len(PROCEDURES)],
                   officer=f"officer{1 + n % 3}", ward=f"{n % 7:05d}", name=name_for(n),
                   outcome="needs_attention" if n % 50 == 0 else "received",
                   events=events, device=device)
