"""Applying edits: from incoming documents to the rows of one write transaction.

Guarantees: a batch is computed in memory against the documents' current revision trees
(all revision logic is `sync.revtree`'s), then written with a handful of `executemany`
calls inside the caller's transaction; each changed document gets exactly one new
sequence number, and its `docs` row, its revision bodies and its place in the changes
feed are written together, so they can never disagree. A document that fails (conflict,
bad input, missing stub) is reported and leaves nothing of itself in the batch.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from sync import revtree
from sync.errors import BadRequest, Conflict, TooLarge
from sync.store import attachments as atts
from sync.store.crypto import Cipher, body_aad
from sync.store.documents import Incoming, canonical_body

_BATCH_IDS = 500
_encode = msgspec.json.encode
_decode = msgspec.json.decode


class DocState:
    """A document's revision tree and winner as the batch sees them.

    A document this batch creates (`DocState.created`) has a one-node tree: it is built
    only if something asks for it (the same id edited again in the batch), and `encoded`
    writes its bytes directly. A bulk insert of new documents then allocates no tree
    objects at all, which the garbage collector would otherwise keep scanning.
    """

    __slots__ = ("_tree", "deleted", "winner")

    def __init__(self, tree: revtree.RevTree | None, winner: str, deleted: bool) -> None:
        self._tree = tree
        self.winner = winner
        self.deleted = deleted

    @classmethod
    def created(cls, rev: str, deleted: bool) -> DocState:
        """A new document whose only revision is `rev` (generation 1, body stored)."""
        return cls(None, rev, deleted)

    @property
    def tree(self) -> revtree.RevTree:
        if self._tree is None:  # what path_for_edit(None, …) builds for a first revision
            self._tree = [revtree.RevBranch(1, revtree.RevNode(self.winner[2:], self.deleted))]
        return self._tree

    def encoded(self) -> bytes:
        if self._tree is None:  # encode_tree's bytes for that one node; the hash is hex
            return b'[2,[1,"%b",%d,0]]' % (self.winner[2:].encode(), self.deleted)
        return encode_tree(self._tree)


@dataclass(slots=True)
class Batch:
    """Everything one write transaction will store."""

    states: dict[str, DocState]
    revs_limit: int
    changed: dict[str, None] = field(default_factory=dict)
    rev_rows: list[tuple[str, str, bytes]] = field(default_factory=list)
    att_rows: list[tuple[str, str, int]] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)


def encode_tree(tree: revtree.RevTree) -> bytes:
    if len(tree) == 1 and tree[0].pos == 1 and not tree[0].node.children:
        # A new document's one-node tree: the bytes `to_json` + msgspec would give
        # ([2, [1, hash, flags, 0]]), without building the intermediate lists.
        node = tree[0].node
        flags = (1 if node.deleted else 0) | (0 if node.available else 2)
        return b"[2,[1,%b,%d,0]]" % (_encode(node.hash), flags)
    return _encode(revtree.to_json(tree))


def decode_tree(data: bytes) -> revtree.RevTree:
    return revtree.from_json(_decode(data))


def load_states(conn: sqlite3.Connection, doc_ids: list[str]) -> dict[str, DocState]:
    states: dict[str, DocState] = {}
    unique = list(dict.fromkeys(doc_ids))
    for start in range(0, len(unique), _BATCH_IDS):
        chunk = unique[start : start + _BATCH_IDS]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT doc_id, winner, deleted, tree FROM docs WHERE doc_id IN ({marks})",  # noqa: S608
            chunk,
        )
        for doc_id, winner, deleted, tree in rows:
            states[doc_id] = DocState(decode_tree(tree), winner, bool(deleted))
    return states


def seal_body(
    cipher: Cipher | None, doc_id: str, rev: str, canonical: bytes, meta: Any
) -> bytes:
    """The stored form of a revision: `[body, attachment meta or null]`, built around the
    body's canonical bytes (the ones its rev id hashed: encoded once), sealed if encrypted."""
    try:
        tail = _encode(meta) if meta else b"null"
    except (TypeError, msgspec.EncodeError, RecursionError) as exc:
        raise BadRequest(f"attachment metadata is not valid JSON: {exc}") from None
    data = b"".join((b"[", canonical, b",", tail, b"]"))
    return data if cipher is None else cipher.seal(data, body_aad(doc_id, rev))


def open_body(
    cipher: Cipher | None, doc_id: str, rev: str, data: bytes
) -> tuple[dict[str, Any], dict[str, dict[str, Any]] | None]:
    plain = data if cipher is None else cipher.open(data, body_aad(doc_id, rev))
    body, meta = _decode(plain)
    return body, meta


def read_rev(
    conn: sqlite3.Connection, cipher: Cipher | None, doc_id: str, rev: str
) -> tuple[dict[str, Any], dict[str, dict[str, Any]] | None] | None:
    row = conn.execute(
        "SELECT data FROM revs WHERE doc_id = ? AND rev = ?", (doc_id, rev)
    ).fetchone()
    return None if row is None else open_body(cipher, doc_id, rev, row[0])


@dataclass(slots=True)
class Writer:
    """Applies edits to a Batch, using the transaction's connection for attachments."""

    conn: sqlite3.Connection
    cipher: Cipher | None
    blobs: atts.BlobStore
    max_doc_bytes: int

    def edit(
        self,
        batch: Batch,
        doc: Incoming,
        streams: Mapping[str, atts.AttachmentSource] | None = None,
    ) -> str:
        """A normal edit (new_edits=true): the new rev, or Conflict."""
        state = batch.states.get(doc.id)
        if state is None and doc.rev is None and not doc.attachments:
            return self._create(batch, doc)
        parent = _parent_for_edit(state, doc)
        if doc.attachments:
            resolved = self._resolve(doc, parent, streams)
            digests = resolved.digests() if resolved.meta else ()
        else:  # no attachments: nothing to read or resolve
            resolved, digests = atts.NO_ATTACHMENTS, ()
        canonical = canonical_body(doc.body, self.max_doc_bytes)
        rev = revtree.rev_id_for_canonical(parent, doc.deleted, canonical, digests)
        data = self._seal(doc, rev, canonical, resolved)
        if state is None:
            batch.states[doc.id] = DocState.created(rev, doc.deleted)
        else:
            path = revtree.path_for_edit(parent, rev, doc.deleted)
            self._merge(batch, doc.id, state, path)
        self._append(batch, doc.id, rev, data, resolved)
        return rev

    def _create(self, batch: Batch, doc: Incoming) -> str:
        """`edit` of a document new to the database, without attachments (a bulk insert's
        every document): no parent to check, no tree to merge, no attachment to resolve."""
        canonical = canonical_body(doc.body, self.max_doc_bytes)
        rev = revtree.rev_id_for_canonical(None, doc.deleted, canonical)
        batch.rev_rows.append((doc.id, rev, self._seal(doc, rev, canonical, atts.NO_ATTACHMENTS)))
        batch.states[doc.id] = DocState.created(rev, doc.deleted)
        batch.changed[doc.id] = None
        return rev

    def _resolve(
        self,
        doc: Incoming,
        parent: str | None,
        streams: Mapping[str, atts.AttachmentSource] | None,
    ) -> atts.ResolvedAttachments:
        """The attachments of a normal edit: new data stored, stubs found in `parent`."""
        assert doc.attachments is not None
        parent_meta = None
        if parent is not None:
            stored = read_rev(self.conn, self.cipher, doc.id, parent)
            parent_meta = stored[1] if stored else None
        return atts.resolve(
            doc.attachments,
            blobs=self.blobs,
            generation=revtree.parse_rev(parent)[0] + 1 if parent else 1,
            parent=parent_meta,
            new_edits=True,
            streams=streams,
        )

    def graft(
        self,
        batch: Batch,
        doc: Incoming,
        streams: Mapping[str, atts.AttachmentSource] | None = None,
    ) -> str:
        """A replicated revision (new_edits=false): graft its history; never conflicts."""
        assert doc.rev is not None
        pos, rev_hash = revtree.parse_rev(doc.rev)
        start, ids = doc.revisions or (pos, [rev_hash])
        path = revtree.path_from_revisions(start, ids, doc.deleted)
        state = batch.states.get(doc.id)
        if state is not None:
            node = revtree.find(state.tree, doc.rev)
            if node is not None and node.available:
                return doc.rev  # already held: nothing to do
        canonical = canonical_body(doc.body, self.max_doc_bytes)
        resolved = atts.resolve(
            doc.attachments,
            blobs=self.blobs,
            generation=pos,
            parent=None,
            new_edits=False,
            streams=streams,
        )
        data = self._seal(doc, doc.rev, canonical, resolved)
        self._merge(batch, doc.id, state or DocState([], "", False), path)
        self._append(batch, doc.id, doc.rev, data, resolved)
        return doc.rev

    def _merge(
        self, batch: Batch, doc_id: str, state: DocState, path: revtree.RevBranch
    ) -> None:
        merged = revtree.merge(state.tree, path, batch.revs_limit)
        winner = revtree.winning_leaf(merged.tree)
        batch.states[doc_id] = DocState(merged.tree, winner.rev, winner.deleted)
        _drop(batch, doc_id, merged.stemmed)

    def _seal(
        self, doc: Incoming, rev: str, canonical: bytes, resolved: atts.ResolvedAttachments
    ) -> bytes:
        data = seal_body(self.cipher, doc.id, rev, canonical, resolved.meta)
        if len(data) > self.max_doc_bytes:
            raise TooLarge(
                f"document {doc.id!r} is {len(data)} bytes; the limit is {self.max_doc_bytes}"
            )
        return data

    @staticmethod
    def _append(
        batch: Batch, doc_id: str, rev: str, data: bytes, resolved: atts.ResolvedAttachments
    ) -> None:
        batch.rev_rows.append((doc_id, rev, data))
        if resolved.blob_ids:
            batch.att_rows.extend((doc_id, rev, blob_id) for blob_id in resolved.blob_ids)
        batch.changed[doc_id] = None


def _drop(batch: Batch, doc_id: str, revs: tuple[str, ...]) -> None:
    batch.dropped.extend((doc_id, rev) for rev in revs)


def _parent_for_edit(state: DocState | None, doc: Incoming) -> str | None:
    """The revision a normal edit extends, or Conflict if `_rev` is not a current leaf."""
    if state is None:
        if doc.rev is not None:
            raise Conflict(f"document update conflict: {doc.id!r} does not exist yet")
        return None
    if doc.rev is None:
        if state.deleted:
            return state.winner  # re-creating a deleted document extends its tombstone
        raise Conflict(f"document update conflict: {doc.id!r} exists; give its current _rev")
    if doc.rev != state.winner and doc.rev not in {
        leaf.rev for leaf in revtree.leaves(state.tree)
    }:
        raise Conflict(
            f"document update conflict: {doc.rev} is not the current revision of {doc.id!r}"
        )
    return doc.rev


def flush(conn: sqlite3.Connection, batch: Batch, update_seq: int) -> int:
    """Write the batch's rows; return the new update_seq."""
    states = batch.states
    doc_rows = []
    for seq, doc_id in enumerate(batch.changed, update_seq + 1):
        state = states[doc_id]  # sqlite3 stores the bool `deleted` as 0 or 1
        doc_rows.append((doc_id, seq, state.winner, state.deleted, state.encoded()))
    conn.executemany(
        "INSERT INTO docs(doc_id, seq, winner, deleted, tree) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(doc_id) DO UPDATE SET seq = excluded.seq, winner = excluded.winner, "
        "deleted = excluded.deleted, tree = excluded.tree",
        doc_rows,
    )
    conn.executemany("INSERT OR REPLACE INTO revs(doc_id, rev, data) VALUES (?, ?, ?)",
                     batch.rev_rows)
    if batch.att_rows:
        conn.executemany(
            "INSERT INTO rev_atts(doc_id, rev, blob_id) VALUES (?, ?, ?)", batch.att_rows
        )
    if batch.dropped:
        conn.executemany("DELETE FROM revs WHERE doc_id = ? AND rev = ?", batch.dropped)
        conn.executemany("DELETE FROM rev_atts WHERE doc_id = ? AND rev = ?", batch.dropped)
    return update_seq + len(doc_rows)
