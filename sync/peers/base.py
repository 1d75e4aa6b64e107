"""The one interface every replication peer implements (CouchDB's `couch_replicator_api_wrap`).

The replicator sees only this: the embedded store, an HTTP CouchDB (or PouchDB Server, or
our gateway) look alike. Each method is one protocol operation; errors are `sync.errors`
classes (`NotFound`, `Unauthorized`, `Forbidden`, `TooLarge`, `MissingStub`,
`PeerUnavailable`, `NotSupported`), so the protocol core can react to them by kind.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

from sync.protocol.model import (
    BodiesWanted,
    ChangesPage,
    Doc,
    FetchError,
    Missing,
    PeerInfo,
    Revision,
    Seq,
    Wanted,
    WriteFailure,
)

Feed = Literal["normal", "longpoll"]


class Peer(Protocol):
    label: str
    """Where the peer is, without credentials: safe to show and log."""

    def identity(self) -> str:
        """What names this database in a replication id (stable across runs)."""
        ...

    def info(self) -> PeerInfo: ...

    def create(self) -> None: ...

    def changes(
        self,
        since: Seq,
        *,
        limit: int | None,
        doc_ids: Sequence[str] | None = None,
        selector: Mapping[str, Any] | None = None,
        feed: Feed = "normal",
        timeout: float | None = None,
        include_docs: bool = False,
        stop: threading.Event | None = None,
    ) -> ChangesPage:
        """Changes after `since` (style=all_docs), at most `limit`; with `feed="longpoll"`
        wait up to `timeout` seconds for the first one, and end early, with no rows, once
        `stop` is set."""
        ...

    def revs_diff(self, revs: Mapping[str, Sequence[str]]) -> list[Missing]: ...

    def bulk_get(self, wanted: Sequence[Wanted]) -> list[Revision | FetchError]:
        """`_bulk_get?revs=true&latest=true&attachments=false`; `NotSupported` if absent."""
        ...

    def open_revs(
        self, doc_id: str, revs: Sequence[str], atts_since: Sequence[str]
    ) -> list[Revision | FetchError]:
        """`GET doc?open_revs=…&revs=true&latest=true` with the bodies of attachments newer
        than `atts_since`."""
        ...

    def fetch_attachments(
        self, wanted: Sequence[BodiesWanted], bulk_get: bool
    ) -> list[Revision | FetchError]:
        """Each wanted revision with the bodies of its attachments newer than its
        `atts_since`: like `open_revs` for its rev, but a peer may reuse the JSON it
        already has and fetch the bodies alone, several revisions in one request
        (`_bulk_get`, unless `bulk_get` is False: the run was told not to use it)."""
        ...

    def bulk_docs(self, docs: Sequence[Doc]) -> list[WriteFailure]:
        """`_bulk_docs` with `new_edits: false`; the failures only. 413 → `TooLarge`."""
        ...

    def put_revision(self, revision: Revision) -> WriteFailure | None:
        """One revision with its attachment bodies (`new_edits=false`)."""
        ...

    def put_revisions(self, revisions: Sequence[Revision]) -> list[WriteFailure]:
        """Several revisions with their attachment bodies (`new_edits=false`), the
        failures only: a refusal, a missing stub or a body over the limit is reported for
        its revision and the others are written. The store writes them in one transaction;
        an HTTP peer PUTs them in turn."""
        ...

    def get_local(self, local_id: str) -> Doc | None: ...

    def put_local(self, doc: Doc) -> str:
        """Store a `_local` document; returns its new `_rev`."""
        ...

    def ensure_full_commit(self) -> None: ...

    def close(self) -> None: ...
