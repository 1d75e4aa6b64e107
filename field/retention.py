"""Citizens' dossiers leave the device a set time after their result was delivered.

Guarantees:
- `expired` is pure: from the `returned` events the device holds, the dossiers whose result
  was handed over more than `keep_days` ago, and every document of theirs the device holds
  (the dossier, its events, intake's outcome, the result).
- `forget_delivered` purges them (every revision: nothing left to replicate back); the
  sync calls it only after a push that left nothing behind, so only documents the server
  already holds leave the device.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from field.device import Device

DEFAULT_KEEP_DAYS = 30


def _returned_at(doc: Mapping[str, Any]) -> tuple[str, dt.datetime] | None:
    """(dossier id, delivery time) of a `returned` event, else None."""
    if doc.get("type") != "event" or doc.get("kind") != "returned":
        return None
    parts = str(doc.get("_id", "")).split(":")
    if len(parts) < 5 or parts[0] != "event":  # event:dossier:<code>:returned:<n>
        return None
    try:
        at = dt.datetime.fromisoformat(str(doc["at"]))
    except (KeyError, ValueError):
        return None
    return ":".join(parts[1:3]), at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def expired(ids: Iterable[str], returned: Iterable[Mapping[str, Any]], *, keep_days: int,
            now: dt.datetime) -> list[str]:
    """Every id in `ids` that belongs to a dossier delivered before `now - keep_days`."""
    limit = now - dt.timedelta(days=keep_days)
    done = {found[0] for doc in returned
            if (found := _returned_at(doc)) is not None and found[1] <= limit}
    if not done:
        return []
    whole = {f"{prefix}{dossier}" for dossier in done for prefix in ("", "intake:", "result:")}
    events = tuple(f"event:{dossier}:" for dossier in done)
    owned = [doc_id for doc_id in ids if doc_id in whole or doc_id.startswith(events)]
    return sorted(owned)


def forget_delivered(device: Device, *, keep_days: int = DEFAULT_KEEP_DAYS,
                     now: dt.datetime | None = None) -> list[str]:
    """Purge the documents of dossiers delivered more than `keep_days` ago."""
    rows = device.db.all_docs(startkey="event:", endkey="event:\ufff0", include_docs=True)
    returned = [r["doc"] for r in rows["rows"] if r.get("doc")]
    ids = [r["id"] for r in device.db.all_docs()["rows"]]
    gone = expired(ids, returned, keep_days=keep_days, now=now or dt.datetime.now(dt.UTC))
    return device.purge(gone)
