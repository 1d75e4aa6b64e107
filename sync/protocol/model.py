"""The values that travel between the replication core and its peers.

Documents stay CouchDB-shaped JSON dicts (that is what they are); everything with a fixed
shape around them is a frozen dataclass. Sequence values are opaque JSON (`Seq`): integers
from PouchDB Server and our store, strings from CouchDB 2+; the core never compares them,
it only hands them back to the peer that produced them.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.errors import DocumentError

Seq = Any
"""An update sequence: any JSON value, compared only for equality."""

Doc = dict[str, Any]


@dataclass(frozen=True, slots=True)
class PeerInfo:
    """What `GET /db` says about a database, as far as replication needs it.

    `multipart_writes`: revisions with attachment bodies are best written one by one with
    their bodies apart (CouchDB's multipart PUT, the store's streams); otherwise they go
    inline (base64) in `_bulk_docs`, as PouchDB sends them."""

    db_name: str
    update_seq: Seq
    doc_count: int | None = None
    multipart_writes: bool = True


@dataclass(frozen=True, slots=True)
class Change:
    """One row of a changes feed: the leaf revisions of a document at sequence `seq`,
    and the winning revision's body when the feed was asked to include it."""

    seq: Seq
    id: str
    revs: tuple[str, ...]
    deleted: bool = False
    doc: Doc | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class ChangesPage:
    """A page of the changes feed; `last_seq` is where the next page starts.

    `scanned` counts the rows the feed gave before any local filtering: 0 means the feed
    is at its end (a filtered page may hold no changes and still have moved on)."""

    changes: tuple[Change, ...]
    last_seq: Seq
    scanned: int = 0


@dataclass(frozen=True, slots=True)
class Missing:
    """`_revs_diff` for one document: revisions the target lacks, and its possible ancestors."""

    id: str
    missing: tuple[str, ...]
    possible_ancestors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Wanted:
    """One revision to fetch from the source, with the target's ancestors as `atts_since`."""

    id: str
    rev: str
    atts_since: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FetchError:
    """A revision the source could not give (deleted meanwhile, purged, forbidden)."""

    id: str
    rev: str | None
    error: str
    reason: str


@dataclass(slots=True)
class Revision:
    """A revision to copy: its JSON (with `_revisions`) and attachment bodies held apart.

    In `doc["_attachments"]` each entry is a stub (`"stub": true`: the target holds it),
    inline (`"data"`: base64) or `"follows": true`, with its bytes in `blobs[name]`.
    """

    doc: Doc
    blobs: dict[str, bytes] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.doc["_id"])

    @property
    def rev(self) -> str:
        return str(self.doc["_rev"])

    def attachments(self) -> dict[str, dict[str, Any]]:
        atts = self.doc.get("_attachments")
        return atts if isinstance(atts, dict) else {}

    def carries_data(self) -> bool:
        """True when some attachment is sent with its bytes (not as a stub)."""
        return any(not att.get("stub") for att in self.attachments().values())

    def with_follows(self) -> Revision:
        """The same revision with every inline attachment moved to `blobs` (for multipart)."""
        doc = dict(self.doc)
        blobs = dict(self.blobs)
        atts: dict[str, dict[str, Any]] = {}
        for name, att in self.attachments().items():
            if "data" in att:
                body = base64.b64decode(att["data"])
                att = {k: v for k, v in att.items() if k != "data"}
                att.update(follows=True, length=len(body))
                blobs[name] = body
            atts[name] = att
        if atts:
            doc["_attachments"] = atts
        return Revision(doc, blobs)

    def inline(self) -> Doc:
        """The revision as one JSON document, every attachment body inline as base64."""
        if not self.blobs:
            return self.doc
        doc = dict(self.doc)
        atts: dict[str, dict[str, Any]] = {}
        for name, att in self.attachments().items():
            if name in self.blobs:
                att = {k: v for k, v in att.items() if k not in ("follows", "length")}
                att["data"] = base64.b64encode(self.blobs[name]).decode("ascii")
            atts[name] = att
        doc["_attachments"] = atts
        return doc


def generation(rev: str) -> int:
    """The N of an `N-hash` revision id (0 for one that is not well formed)."""
    head, _, _ = rev.partition("-")
    return int(head) if head.isdigit() else 0


@dataclass(frozen=True, slots=True)
class BodiesWanted:
    """A revision (as the feed or `bulk_get` gave it, attachments as stubs) whose
    attachment bodies newer than every rev in `atts_since` must be fetched."""

    revision: Revision
    atts_since: tuple[str, ...] = ()

    def needs(self, att: Mapping[str, Any]) -> bool:
        """Whether an attachment's body must be fetched: CouchDB's `atts_since` rule, a
        body added after every ancestor the target holds."""
        floor = max((generation(rev) for rev in self.atts_since), default=0)
        return int(att.get("revpos", 0)) > floor

    def with_bodies(self, bodies: Mapping[str, bytes]) -> Revision:
        """The revision with `bodies` (by attachment name) following its JSON."""
        atts: dict[str, dict[str, Any]] = {}
        for name, att in self.revision.attachments().items():
            if name in bodies:
                att = {**{k: v for k, v in att.items() if k != "stub"},
                       "follows": True, "length": len(bodies[name])}
            atts[name] = att
        doc = {**self.revision.doc, "_attachments": atts} if atts else self.revision.doc
        return Revision(doc, {name: bodies[name] for name in atts if name in bodies})

    def filled_from(self, bodies: Mapping[str, bytes]) -> Revision | None:
        """The revision with the bodies it needs taken from `bodies` (by attachment name;
        more may be there), or None if one it needs is missing. The store checks each
        body against the stub's digest when writing it."""
        needed = [name for name, att in self.revision.attachments().items()
                  if self.needs(att)]
        if any(name not in bodies for name in needed):
            return None
        return self.with_bodies({name: bodies[name] for name in needed})


@dataclass(frozen=True, slots=True)
class WriteFailure:
    """A revision the target refused (e.g. 403 from a validation function)."""

    id: str
    rev: str | None
    error: str
    reason: str

    @classmethod
    def of(cls, revision: Revision, refusal: DocumentError) -> WriteFailure:
        """The target's refusal of `revision`, as reported."""
        return cls(revision.id, revision.rev, refusal.error, refusal.reason)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> WriteFailure:
        """An error row of `_bulk_docs` (`{"id", "rev", "error", "reason"}`)."""
        return cls(str(row.get("id")), row.get("rev"), str(row["error"]),
                   str(row.get("reason", "")))
