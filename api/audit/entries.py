"""Audit entries and their keys: pure, no storage.

An entry is one act by one user on zero or more dossiers. It is stored once under a
primary id `audit:<utc iso, µs>:<random>` (fixed width, so ids sort in time order and two
acts in the same microsecond still get distinct ids) and copied under one secondary key
per actor and, for an act ON dossiers (a read, a write), one per dossier (pointers to it):
`by-dossier:<quoted id>:<same stamp>` and `by-actor:<quoted username>:<same stamp>`. The
secondary keys make the two common questions ("who read or changed this dossier in
March", "what did this user do this week") one key-range read over `_all_docs`, on the
embedded store and on CouchDB alike, without scanning the whole log.

A LISTING (a page of search results, an export) keeps every dossier id it showed in its
one entry but writes no per-dossier pointers: a 50-row page would otherwise cost 50 extra
documents per request, on the hottest route of the back office. So a dossier's own trail
(`?dossier=`) holds the reads and writes of that dossier; the lists it appeared in are
found by actor and time (`?actor=&from=&to=`), whose entries carry the ids.

Values inside keys are percent-quoted so a ':' in a dossier id cannot make one dossier's
range overlap another's.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from urllib.parse import quote

import msgspec

SCHEMA = 1
PRIMARY = "audit:"
BY_DOSSIER = "by-dossier:"
BY_ACTOR = "by-actor:"
# Above every character a stamp or random suffix may hold: closes a key range.
HIGH = "\ufff0"
# Details are free text from the caller; keep them short so nothing large (or personal)
# slips in by accident.
MAX_DETAIL = 500


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One act: who (username, role, device), what (action, detail), on which dossiers."""

    id: str
    at: dt.datetime
    actor: str
    role: str
    device_id: str
    action: str
    dossier_ids: tuple[str, ...] = ()
    detail: str = ""


def stamp(at: dt.datetime) -> str:
    """A fixed-width UTC stamp with microseconds: `2026-11-27T21:07:53.000123Z`."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_entry(actor: str, role: str, device_id: str, action: str,
              dossier_ids: Sequence[str], detail: str, at: dt.datetime) -> AuditEntry:
    suffix = secrets.token_hex(6)
    return AuditEntry(id=f"{PRIMARY}{stamp(at)}:{suffix}", at=at.astimezone(dt.UTC),
                      actor=actor, role=role, device_id=device_id, action=action,
                      dossier_ids=tuple(dict.fromkeys(dossier_ids)),
                      detail=detail[:MAX_DETAIL])


def tail(entry_id: str) -> str:
    """The `<stamp>:<random>` part shared by an entry's primary and secondary keys."""
    return entry_id[len(PRIMARY):]


def dossier_prefix(dossier_id: str) -> str:
    return f"{BY_DOSSIER}{quote(dossier_id, safe='')}:"


def actor_prefix(actor: str) -> str:
    return f"{BY_ACTOR}{quote(actor, safe='')}:"


def documents(entry: AuditEntry, *, listing: bool = False) -> list[dict[str, object]]:
    """The documents one record writes: the entry, then one pointer per dossier (none for
    a listing, see the module docstring) and one for the actor.

    A pointer holds the entry's id and the two fields a query filters on (actor, action),
    not the whole entry: an act on n dossiers writes n small documents, not n copies of an
    n-long list.
    """
    body = msgspec.to_builtins(entry)
    body.pop("id")
    primary = {"_id": entry.id, "type": "audit-entry", "schema": SCHEMA, **body}
    pointed = () if listing else entry.dossier_ids
    keys = [dossier_prefix(d) + tail(entry.id) for d in pointed]
    keys.append(actor_prefix(entry.actor) + tail(entry.id))
    return [primary, *({"_id": key, "type": "audit-index", "schema": SCHEMA, "entry": entry.id,
                        "actor": entry.actor, "action": entry.action} for key in keys)]


def from_document(doc: dict[str, object]) -> AuditEntry:
    """The entry a primary document holds."""
    fields = {k: v for k, v in doc.items() if k in AuditEntry.__struct_fields__ and k != "id"}
    return msgspec.convert({**fields, "id": doc["_id"]}, AuditEntry)
