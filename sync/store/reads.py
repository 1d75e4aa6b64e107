"""Reading documents inside one snapshot: revisions, open_revs, all_docs rows.

A `Snapshot` wraps a connection that is inside a read (or write) transaction, so every
query it makes sees the same state. It only reads; all revision logic is `sync.revtree`'s.
Attachments come out as stubs, or inline base64 when asked for — for `atts_since`, only
those added after the newest of the given revisions that is an ancestor (CouchDB's rule).
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sync import revtree
from sync.errors import BadRequest, NotFound
from sync.store import attachments as atts
from sync.store.crypto import Cipher
from sync.store.documents import render, revisions_of
from sync.store.writes import decode_tree, open_body


@dataclass(frozen=True, slots=True)
class ReadOptions:
    revs: bool = False
    attachments: bool = False
    atts_since: list[str] | None = None


PLAIN = ReadOptions()


@dataclass(frozen=True, slots=True)
class Snapshot:
    conn: sqlite3.Connection
    cipher: Cipher | None

    def blob_key(self, digest: str) -> str:
        return digest if self.cipher is None else self.cipher.blob_key(digest)

    def row(self, doc_id: str) -> tuple[str, bool, revtree.RevTree] | None:
        """(winner, deleted, tree) of a document, or None."""
        found = self.conn.execute(
            "SELECT winner, deleted, tree FROM docs WHERE doc_id = ?", (doc_id,)
        ).fetchone()
        return None if found is None else (found[0], bool(found[1]), decode_tree(found[2]))

    def winner(self, doc_id: str) -> dict[str, Any]:
        """The current revision, stubs for attachments; NotFound "missing"/"deleted"."""
        found = self.conn.execute(
            "SELECT d.winner, d.deleted, r.data FROM docs d LEFT JOIN revs r "
            "ON r.doc_id = d.doc_id AND r.rev = d.winner WHERE d.doc_id = ?",
            (doc_id,),
        ).fetchone()
        if found is None or found[2] is None:
            raise NotFound("missing")
        if found[1]:
            raise NotFound("deleted")
        body, meta = open_body(self.cipher, doc_id, found[0], found[2])
        doc = render(doc_id, found[0], body, False)
        if meta:
            doc["_attachments"] = {name: atts.stub(att) for name, att in meta.items()}
        return doc

    def document(
        self,
        doc_id: str,
        rev: str | None,
        options: ReadOptions,
        *,
        conflicts: bool,
        deleted_conflicts: bool,
        latest: bool,
    ) -> dict[str, Any]:
        """CouchDB's GET of one document; NotFound with reason "missing" or "deleted"."""
        found = self.row(doc_id)
        if found is None:
            raise NotFound("missing")
        winner, deleted, tree = found
        if rev is None:
            if deleted:
                raise NotFound("deleted")
            rev = winner
        elif latest:
            newest = revtree.latest(tree, rev)
            if not newest:
                raise NotFound("missing")
            rev = newest[0]
        doc = self.load(doc_id, rev, tree, options)
        if doc is None:
            raise NotFound("missing")
        if rev == winner:
            _add_conflicts(doc, tree, conflicts, deleted_conflicts)
        return doc

    def load(
        self, doc_id: str, rev: str, tree: revtree.RevTree, options: ReadOptions = PLAIN
    ) -> dict[str, Any] | None:
        """One revision as a document, or None if its body is not held."""
        node = revtree.find(tree, rev)
        if node is None or not node.available:
            return None
        stored = self.conn.execute(
            "SELECT data FROM revs WHERE doc_id = ? AND rev = ?", (doc_id, rev)
        ).fetchone()
        if stored is None:
            return None
        body, meta = open_body(self.cipher, doc_id, rev, stored[0])
        doc = render(doc_id, rev, body, node.deleted)
        if meta:
            since = since_generation(tree, rev, options.atts_since)
            inline = options.attachments or options.atts_since is not None
            doc["_attachments"] = {
                name: self.attachment_out(att, inline and att["revpos"] > since)
                for name, att in meta.items()
            }
        if options.revs:
            doc["_revisions"] = revisions_of(tree, rev)
        return doc

    def attachment_out(self, meta: Mapping[str, Any], inline: bool) -> dict[str, Any]:
        if not inline:
            return atts.stub(meta)
        digest = meta["digest"]
        data = b"".join(atts.iter_chunks(self.conn, self.cipher, self.blob_key(digest), digest))
        return {**meta, "data": base64.b64encode(data).decode("ascii")}

    def open_revs(
        self,
        doc_id: str,
        revs: list[str] | Literal["all"],
        latest: bool,
        options: ReadOptions,
    ) -> list[dict[str, Any]]:
        found = self.row(doc_id)
        if found is None:
            return [] if revs == "all" else [{"missing": rev} for rev in revs]
        tree = found[2]
        results: list[dict[str, Any]] = []
        for rev in open_revs_targets(tree, revs, latest):
            doc = self.load(doc_id, rev, tree, options)
            results.append({"ok": doc} if doc is not None else {"missing": rev})
        return results

    def winner_doc(
        self, doc_id: str, winner: str, tree_data: bytes, conflicts: bool
    ) -> dict[str, Any] | None:
        tree = decode_tree(tree_data)
        doc = self.load(doc_id, winner, tree)
        if doc is not None:
            _add_conflicts(doc, tree, conflicts, False)
        return doc

    def all_docs_keys(
        self, keys: list[str], include_docs: bool, conflicts: bool
    ) -> list[dict[str, Any]]:
        if not isinstance(keys, list):
            raise BadRequest("keys must be a list of document ids")
        rows: list[dict[str, Any]] = []
        for key in keys:
            found = self.conn.execute(
                "SELECT winner, deleted, tree FROM docs WHERE doc_id = ?", (key,)
            ).fetchone()
            if found is None:
                rows.append({"key": key, "error": "not_found"})
                continue
            winner, deleted, tree_data = found
            row: dict[str, Any] = {"id": key, "key": key, "value": {"rev": winner}}
            if deleted:
                row["value"]["deleted"] = True
                if include_docs:
                    row["doc"] = None
            elif include_docs:
                row["doc"] = self.winner_doc(key, winner, tree_data, conflicts)
            rows.append(row)
        return rows

    def all_docs_range(
        self,
        bounds: tuple[str | None, str | None, bool],
        limit: int | None,
        skip: int,
        descending: bool,
        include_docs: bool,
        conflicts: bool,
    ) -> list[dict[str, Any]]:
        """Rows between startkey and endkey (`bounds`, with inclusive_end), in id order."""
        startkey, endkey, inclusive_end = bounds
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise BadRequest(f"limit must be a non-negative integer, not {limit!r}")
        if not isinstance(skip, int) or skip < 0:
            raise BadRequest(f"skip must be a non-negative integer, not {skip!r}")
        sql = "SELECT doc_id, winner, tree FROM docs WHERE deleted = 0"
        params: list[Any] = []
        first, last = (">", "<") if not descending else ("<", ">")
        if startkey is not None:
            sql += f" AND doc_id {first}= ?"
            params.append(startkey)
        if endkey is not None:
            sql += f" AND doc_id {last}{'=' if inclusive_end else ''} ?"
            params.append(endkey)
        sql += " ORDER BY doc_id" + (" DESC" if descending else "") + " LIMIT ? OFFSET ?"
        params.extend([-1 if limit is None else limit, skip])
        rows: list[dict[str, Any]] = []
        for doc_id, winner, tree_data in self.conn.execute(sql, params).fetchall():
            row: dict[str, Any] = {"id": doc_id, "key": doc_id, "value": {"rev": winner}}
            if include_docs:
                row["doc"] = self.winner_doc(doc_id, winner, tree_data, conflicts)
            rows.append(row)
        return rows


def _add_conflicts(
    doc: dict[str, Any], tree: revtree.RevTree, conflicts: bool, deleted_conflicts: bool
) -> None:
    if conflicts:
        found = revtree.conflicts(tree)
        if found:
            doc["_conflicts"] = found
    if deleted_conflicts:
        gone = revtree.deleted_conflicts(tree)
        if gone:
            doc["_deleted_conflicts"] = gone


def since_generation(tree: revtree.RevTree, rev: str, atts_since: list[str] | None) -> int:
    """CouchDB's atts_since: the generation of the newest given rev that is an ancestor."""
    if not atts_since:
        return 0
    pos, _ = revtree.parse_rev(rev)
    ancestors = {f"{pos - i}-{h}" for i, h in enumerate(revtree.ancestry(tree, rev))}
    known = [revtree.parse_rev(r)[0] for r in atts_since if r in ancestors]
    return max(known, default=0)


def open_revs_targets(
    tree: revtree.RevTree, revs: list[str] | Literal["all"], latest: bool
) -> list[str]:
    if revs == "all":
        return [leaf.rev for leaf in revtree.leaves(tree)]
    wanted: list[str] = []
    for rev in revs:
        newest = revtree.latest(tree, rev) if latest else []
        wanted.extend(newest or [rev])
    return list(dict.fromkeys(wanted))
