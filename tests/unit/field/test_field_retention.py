"""Which documents leave the device after delivery: a pure choice over what it holds."""

from __future__ import annotations

import datetime as dt

from field.retention import expired

NOW = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
HELD = ["dossier:TT-D1-000001", "event:dossier:TT-D1-000001:received",
        "event:dossier:TT-D1-000001:returned:1", "intake:dossier:TT-D1-000001",
        "result:dossier:TT-D1-000001", "dossier:TT-D1-000010", "event:dossier:TT-D1-000010:x:1",
        "intake:dossier:TT-D1-0000010", "visit:officer1-001", "reference:district-pki"]


def _returned(code: str, days_ago: float) -> dict[str, object]:
    return {"_id": f"event:dossier:{code}:returned:1", "type": "event", "kind": "returned",
            "at": (NOW - dt.timedelta(days=days_ago)).isoformat()}


def test_a_dossier_delivered_long_ago_leaves_with_all_its_documents() -> None:
    gone = expired(HELD, [_returned("TT-D1-000001", 31)], keep_days=30, now=NOW)
    assert gone == sorted(HELD[:5])  # not TT-D1-000010, nor a code that merely starts alike


def test_a_recent_delivery_and_other_events_keep_everything() -> None:
    assert expired(HELD, [_returned("TT-D1-000001", 29)], keep_days=30, now=NOW) == []
    other = {**_returned("TT-D1-000001", 40), "kind": "supplemented"}
    assert expired(HELD, [other], keep_days=30, now=NOW) == []
    assert expired(HELD, [{**_returned("TT-D1-000001", 40), "at": "yesterday"}],
                   keep_days=30, now=NOW) == []
