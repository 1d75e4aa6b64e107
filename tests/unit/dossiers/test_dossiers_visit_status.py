"""A visit's status and cancel reason: stored visits without them still decode, as planned."""

from __future__ import annotations

import json

import msgspec
import pytest

from dossiers.examples import _example_data
from dossiers.models import Visit, decode, encode


def _stored(**extra: object) -> bytes:
    doc = {"type": "visit", "schema": 1, "access": ["officer:o1", "ward:00004"], "id": "v1",
           "citizen": msgspec.to_builtins(_example_data().citizen), "procedures": ["1.001776"],
           "priority_group": "nguoi_cao_tuoi", "officer_id": "o1", "planned_date": "2026-03-02",
           **extra}
    return json.dumps(doc).encode()


def test_a_visit_stored_before_the_status_existed_is_planned() -> None:
    visit = decode(_stored())
    assert isinstance(visit, Visit)
    assert (visit.status, visit.cancel_reason) == ("planned", None)


def test_a_cancelled_visit_round_trips() -> None:
    visit = decode(_stored(status="cancelled", cancel_reason="Vắng nhà"))
    assert isinstance(visit, Visit) and visit.status == "cancelled"
    assert decode(encode(visit)) == visit
    assert json.loads(encode(visit))["cancel_reason"] == "Vắng nhà"


def test_an_unknown_status_is_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="status"):
        decode(_stored(status="done"))
