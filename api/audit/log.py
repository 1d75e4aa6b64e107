"""The audit log: append-only, in its own database (`<prefix>doorstep-audit`), never synced.

Guarantees: `record` writes one entry (and its small pointers, see `entries`; a listing
gets no per-dossier pointers) in one
`_bulk_docs` call — one round trip, one transaction on the embedded store — and raises if
any of it was refused, so a caller never serves an act it could not log. Entries are only
ever created with fresh ids and no `_rev`: nothing in this module (or anywhere else)
updates or deletes them, and a write that would reuse an id is refused as a conflict.
`query` reads one key range in batches (then the page's entries by id, when the range
held pointers) and stops after `SCAN_BUDGET` rows, handing back a cursor to go on, so a
selective filter on a large log still answers promptly.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import msgspec

from api.audit.entries import AuditEntry, documents, from_document, new_entry
from api.audit.queries import AuditQuery, encode_cursor, plan, wanted
from sync.errors import DocumentError, named

AUDIT_DB = "doorstep-audit"
SCAN_BUDGET = 5000
ACTION = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$")


class Actor(Protocol):
    """What the log needs of a caller (an `api.auth.service.Identity`)."""

    @property
    def username(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def device_id(self) -> str: ...


class AuditPage(msgspec.Struct, frozen=True):
    items: list[AuditEntry]
    next_cursor: str | None
    order: str = "oldest_first"


class AuditLog:
    def __init__(self, db: Any, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.db = db
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def record(self, identity: Actor, action: str, dossier_ids: Sequence[str],
               detail: str = "", *, listing: bool = False) -> AuditEntry:
        """Log one act. `action` is dotted lower-case words ("dossier.read"); `detail` is
        for ids, filters and status names only — never a secret nor a citizen's data.
        `listing`: the ids are what a list or export SHOWED, not dossiers acted on: they are
        kept in the entry (found by actor and time) but not indexed per dossier."""
        if not ACTION.match(action):
            raise ValueError(f"audit action {action!r} is not dotted lower-case words")
        entry = new_entry(identity.username, identity.role, identity.device_id, action,
                          dossier_ids, detail, self._clock())
        for row in self.db.bulk_docs(documents(entry, listing=listing)):
            if "error" in row:
                kind = named(str(row["error"])) or DocumentError
                raise kind(f"audit entry {entry.id} not written: {row.get('reason')}")
        return entry

    def query(self, query: AuditQuery, now: dt.datetime | None = None) -> AuditPage:
        """A page of entries, oldest first; `now` closes a range with no `to` nor cursor."""
        keys = plan(query, now or self._clock())
        start, after = keys.start, keys.after
        scanned, found = 0, []
        batch = min(max(query.limit * 2, 100), SCAN_BUDGET)
        while True:
            rows = self.db.all_docs(startkey=start, endkey=keys.end, include_docs=True,
                                    limit=batch + 1)["rows"]
            exhausted = len(rows) <= batch
            rows = [r for r in rows if r["id"] != after]
            for i, row in enumerate(rows):
                scanned += 1
                last = exhausted and i == len(rows) - 1
                if wanted(query, row["doc"]):
                    found.append(row["doc"])
                    if len(found) == query.limit:
                        return self._page(found, None if last else (row["id"], keys.end))
                if scanned >= SCAN_BUDGET:
                    return self._page(found, None if last else (row["id"], keys.end))
            if exhausted or not rows:
                return self._page(found, None)
            start = after = rows[-1]["id"]

    def _page(self, found: list[dict[str, Any]], resume: tuple[str, str] | None) -> AuditPage:
        """The entries `found` holds or points to, with a cursor when rows may remain."""
        pointed = [doc["entry"] for doc in found if "entry" in doc]
        if pointed:
            # One round trip for the whole page's entries.
            answer = self.db.bulk_get([{"id": entry_id} for entry_id in pointed])["results"]
            held = {item["id"]: d["ok"] for item in answer for d in item["docs"] if "ok" in d}
            found = [held[doc["entry"]] if "entry" in doc else doc for doc in found]
        cursor = encode_cursor(*resume) if resume is not None else None
        return AuditPage([from_document(doc) for doc in found], cursor)


def open_audit(storage: Any, prefix: str) -> AuditLog:
    return AuditLog(storage.open(prefix + AUDIT_DB, create=True))
