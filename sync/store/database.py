"""One database: a SQLite file in WAL mode with CouchDB document semantics.

Guarantees:
* every write call (put, bulk_docs, delete, put_local, purge, …) is one transaction: a
  crash leaves all of it or none of it; documents, revision bodies and the changes feed
  always agree (see writes.py);
* one writer at a time (a lock in-process, `BEGIN IMMEDIATE` across processes), any number
  of readers, each reading inside one snapshot;
* bad input raises a `sync.errors` error naming the fault, before anything is written;
* with a key, bodies and attachment data are sealed with AES-GCM (crypto.py); only ids,
  revision trees, sequence numbers and declared index fields are plaintext.

Thread-safe: readers use one connection per thread; the writer has its own connection;
a background thread with a third one checkpoints the WAL (checkpoint.py), so writes never
wait for its fsyncs.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from sync import revtree
from sync.errors import BadRequest, Conflict, DocumentError, NotFound, Unauthorized
from sync.store import attachments as atts
from sync.store import maintenance, query
from sync.store.changes import ChangesRequest, WriteSignal, parse_since, read_changes
from sync.store.checkpoint import BACKSTOP_PAGES, Checkpointer
from sync.store.crypto import Cipher
from sync.store.documents import LOCAL_PREFIX, Incoming, parse_json, split
from sync.store.documents import project as project_fields
from sync.store.limits import Limits
from sync.store.local import read_local, write_local
from sync.store.reads import PLAIN, ReadOptions, Snapshot
from sync.store.schema import (
    connect,
    doc_counts,
    meta_int,
    migrate,
    read_meta,
    schema_version,
    write_meta,
)
from sync.store.writes import Batch, Writer, flush, load_states

Style = Literal["main_only", "all_docs"]


class Database:
    """A CouchDB-shaped database in one SQLite file. Open it through `Store`."""

    def __init__(self, path: Path, name: str, *, key: bytes | None, limits: Limits) -> None:
        self.name = name
        self.path = path
        self._limits = limits
        self._cipher = Cipher(key) if key is not None else None
        self._writer = connect(path)
        try:
            self._check_key()  # before anything is written
            migrate(self._writer, self._initial_meta())
            self._check_key()  # a new file another process set up meanwhile: its key rules
        except BaseException:
            self._writer.close()
            raise
        # WAL checkpoints (and their fsyncs) run on a thread of their own: checkpoint.py.
        self._writer.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")
        self._checkpointer = Checkpointer(path, connect)
        weakref.finalize(self, self._checkpointer.close)
        self._write_lock = threading.RLock()
        self._local = threading.local()
        # Weak: a thread's reader connection closes when the thread ends.
        self._readers: weakref.WeakSet[_Reader] = weakref.WeakSet()
        self._readers_lock = threading.Lock()
        self._signal = WriteSignal()
        self._closed = False

    # --- connections ----------------------------------------------------------------------

    def _check_key(self) -> None:
        """Refuse a missing or wrong key before anything in the file is touched."""
        if schema_version(self._writer) == 0:
            return
        verifier = read_meta(self._writer, "key_check")
        if verifier is None and self._cipher is not None:
            raise BadRequest(f"database {self.name!r} is not encrypted; open it without a key")
        if verifier is not None and self._cipher is None:
            raise Unauthorized(f"database {self.name!r} is encrypted; a key is needed to open it")
        if verifier is not None and self._cipher is not None:
            self._cipher.check(bytes(verifier))

    def _initial_meta(self) -> dict[str, object]:
        meta: dict[str, object] = {"revs_limit": revtree.DEFAULT_REVS_LIMIT}
        if self._cipher is not None:
            meta["key_check"] = self._cipher.verifier()
        return meta

    def _reader(self) -> sqlite3.Connection:
        if self._closed:
            raise BadRequest(f"database {self.name!r} is closed")
        reader: _Reader | None = getattr(self._local, "reader", None)
        if reader is None:
            reader = _Reader(connect(self.path))
            self._local.reader = reader
            with self._readers_lock:
                self._readers.add(reader)
        return reader.conn

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        conn = self._reader()
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        if self._closed:
            raise BadRequest(f"database {self.name!r} is closed")
        with self._write_lock:
            conn = self._writer
            changes = conn.total_changes
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            if conn.total_changes != changes:  # a write that changed nothing needs no checkpoint
                self._checkpointer.committed()
        self._signal.notify()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._checkpointer.close()  # first: closing the writer last checkpoints the log
        with self._write_lock:
            self._writer.close()
        with self._readers_lock:
            for reader in list(self._readers):
                reader.conn.close()
            self._readers.clear()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def encrypted(self) -> bool:
        return self._cipher is not None

    # --- info -----------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        with self._reading() as conn:
            live, dead = doc_counts(conn)
            update_seq = meta_int(conn, "update_seq")
            purge_seq = meta_int(conn, "purge_seq")
            disk_format = schema_version(conn)
        size = sum(
            p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists()
        )
        return {
            "db_name": self.name,
            "doc_count": int(live),
            "doc_del_count": int(dead),
            "update_seq": update_seq,
            "purge_seq": purge_seq,
            "instance_start_time": "0",
            "sizes": {"file": size},
            "disk_format_version": disk_format,
        }

    # --- reading documents ----------------------------------------------------------------

    def get(
        self,
        doc_id: str,
        *,
        rev: str | None = None,
        revs: bool = False,
        conflicts: bool = False,
        deleted_conflicts: bool = False,
        attachments: bool = False,
        atts_since: list[str] | None = None,
        latest: bool = False,
    ) -> dict[str, Any]:
        if isinstance(doc_id, str) and doc_id.startswith(LOCAL_PREFIX):
            return self.get_local(doc_id)
        if rev is not None:
            revtree.parse_rev(rev)
        options = ReadOptions(revs, attachments, _rev_list(atts_since, "atts_since"))
        if rev is None and options == PLAIN and not (conflicts or deleted_conflicts):
            # The common case in one statement (a snapshot by itself): no tree to decode.
            return Snapshot(self._reader(), self._cipher).winner(doc_id)
        with self._reading() as conn:
            return Snapshot(conn, self._cipher).document(
                doc_id, rev, options,
                conflicts=conflicts, deleted_conflicts=deleted_conflicts, latest=latest,
            )

    def open_revs(
        self,
        doc_id: str,
        revs: list[str] | Literal["all"],
        *,
        revs_history: bool = False,
        latest: bool = False,
        attachments: bool = False,
        atts_since: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        if revs != "all":
            revs = _rev_list(revs, "open_revs") or []
        options = ReadOptions(revs_history, attachments, _rev_list(atts_since, "atts_since"))
        with self._reading() as conn:
            return Snapshot(conn, self._cipher).open_revs(doc_id, revs, latest, options)

    def bulk_get(
        self,
        requests: list[Mapping[str, Any]],
        *,
        revs: bool = False,
        attachments: bool = False,
        latest: bool = False,
    ) -> dict[str, Any]:
        if not isinstance(requests, list):
            raise BadRequest("bulk_get takes a list of {id, rev?, atts_since?}")
        results = []
        for item in requests:
            if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
                raise BadRequest(f"bulk_get item needs a string id: {item!r}")
            doc_id, rev = item["id"], item.get("rev")
            since = item.get("atts_since")
            docs = self._bulk_get_one(doc_id, rev, since, revs, attachments, latest)
            results.append({"id": doc_id, "docs": docs})
        return {"results": results}

    def _bulk_get_one(
        self,
        doc_id: str,
        rev: object,
        since: object,
        revs: bool,
        attachments: bool,
        latest: bool,
    ) -> list[dict[str, Any]]:
        try:
            atts_since = _rev_list(since, "atts_since")
            if rev is None:
                doc = self.get(doc_id, revs=revs, attachments=attachments, atts_since=atts_since)
                return [{"ok": doc}]
            if not isinstance(rev, str):
                raise BadRequest(f"bulk_get: rev of {doc_id!r} must be a string")
            found = self.open_revs(
                doc_id, [rev], revs_history=revs, latest=latest, attachments=attachments,
                atts_since=atts_since,
            )
        except DocumentError as exc:
            return [{"error": {"id": doc_id, "rev": rev or "undefined", **exc.as_json()}}]
        missing = {"error": "not_found", "reason": "missing"}
        return [
            {"ok": item["ok"]} if "ok" in item
            else {"error": {"id": doc_id, "rev": item["missing"], **missing}}
            for item in found
        ]

    def revs_diff(self, request: Mapping[str, list[str]]) -> dict[str, dict[str, list[str]]]:
        if not isinstance(request, Mapping):
            raise BadRequest("revs_diff takes an object {doc_id: [revs]}")
        for doc_id, revs in request.items():
            _rev_list(revs, f"revs_diff of {doc_id!r}")
        with self._reading() as conn:
            states = load_states(conn, list(request))
        answer: dict[str, dict[str, list[str]]] = {}
        for doc_id, revs in request.items():
            state = states.get(doc_id)
            if state is None:
                answer[doc_id] = {"missing": list(dict.fromkeys(revs))}
                continue
            diff = revtree.revs_diff(state.tree, revs)
            if diff.missing:
                entry = {"missing": list(diff.missing)}
                if diff.possible_ancestors:
                    entry["possible_ancestors"] = list(diff.possible_ancestors)
                answer[doc_id] = entry
        return answer

    def all_docs(
        self,
        *,
        keys: list[str] | None = None,
        startkey: str | None = None,
        endkey: str | None = None,
        inclusive_end: bool = True,
        limit: int | None = None,
        skip: int = 0,
        descending: bool = False,
        include_docs: bool = False,
        conflicts: bool = False,
    ) -> dict[str, Any]:
        with self._reading() as conn:
            total = doc_counts(conn)[0]
            snapshot = Snapshot(conn, self._cipher)
            if keys is not None:
                rows = snapshot.all_docs_keys(keys, include_docs, conflicts)
            else:
                rows = snapshot.all_docs_range(
                    (startkey, endkey, inclusive_end), limit, skip, descending,
                    include_docs, conflicts,
                )
        return {"total_rows": int(total), "offset": skip, "rows": rows}

    # --- the changes feed -----------------------------------------------------------------

    def changes(
        self,
        *,
        since: int | str = 0,
        limit: int | None = None,
        style: Style = "main_only",
        include_docs: bool = False,
        doc_ids: list[str] | None = None,
        selector: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        conflicts: bool = False,
        descending: bool = False,
    ) -> dict[str, Any]:
        if style not in ("main_only", "all_docs"):
            raise BadRequest(f"style must be main_only or all_docs, not {style!r}")
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise BadRequest(f"limit must be a non-negative integer, not {limit!r}")
        if doc_ids is not None and not isinstance(doc_ids, list):
            raise BadRequest("doc_ids must be a list of document ids")
        request = ChangesRequest(
            since=parse_since(since, self._update_seq),
            limit=limit,
            all_docs=style == "all_docs",
            include_docs=include_docs,
            doc_ids=doc_ids,
            selector=query.parse(selector) if selector is not None else None,
            conflicts=conflicts,
            descending=descending,
        )
        conn = self._reader()
        deadline = time.monotonic() + (timeout or 0)
        while True:
            token = self._signal.token(conn)
            with self._reading() as snapshot:
                result = read_changes(snapshot, self._cipher, request)
            if result["results"] or timeout is None or descending:
                return result
            if not self._signal.wait_for_write(conn, token, deadline):
                return result

    def _update_seq(self) -> int:
        with self._reading() as conn:
            return meta_int(conn, "update_seq")

    # --- writing documents ----------------------------------------------------------------

    def put(
        self,
        doc: Mapping[str, Any] | bytes | str,
        *,
        new_edits: bool = True,
        attachment_streams: Mapping[str, atts.AttachmentSource] | None = None,
    ) -> dict[str, Any]:
        """Write one document; raise its error (Conflict, BadRequest, …) if it fails."""
        if isinstance(doc, bytes | str):
            doc = parse_json(doc)
        if isinstance(doc, Mapping) and str(doc.get("_id", "")).startswith(LOCAL_PREFIX):
            return self.put_local(doc)
        incoming = split(doc, new_edits=new_edits)
        with self._writing() as conn:
            revs = self._apply(conn, [incoming], new_edits, [attachment_streams], raising=True)
        return {"ok": True, "id": incoming.id, "rev": revs[0]}

    def post(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(doc, Mapping):
            raise BadRequest(f"a document must be a JSON object, not {type(doc).__name__}")
        return self.put(dict(doc))

    def delete(self, doc_id: str, rev: str) -> dict[str, Any]:
        if isinstance(doc_id, str) and doc_id.startswith(LOCAL_PREFIX):
            return self.delete_local(doc_id, rev)
        return self.put({"_id": doc_id, "_rev": rev, "_deleted": True})

    def bulk_docs(
        self,
        docs: list[Mapping[str, Any]],
        *,
        new_edits: bool = True,
        attachment_streams: Sequence[Mapping[str, atts.AttachmentSource] | None] | None = None,
    ) -> list[dict[str, Any]]:
        """CouchDB's _bulk_docs: one transaction; a result (or error) per document, or
        with new_edits=false the errors only. `attachment_streams`, one entry per document,
        gives the bodies of its `follows` attachments (as `put` takes them)."""
        if not isinstance(docs, list):
            raise BadRequest("bulk_docs takes a list of documents")
        if attachment_streams is not None and len(attachment_streams) != len(docs):
            raise BadRequest("bulk_docs takes one attachment_streams entry per document")
        outcomes: list[dict[str, Any] | Incoming] = []
        locals_: list[tuple[int, Mapping[str, Any]]] = []
        streams: list[Mapping[str, atts.AttachmentSource] | None] = []
        for index, raw in enumerate(docs):
            is_object = type(raw) is dict or isinstance(raw, Mapping)
            raw_id = raw.get("_id") if is_object else None
            if isinstance(raw_id, str) and raw_id.startswith(LOCAL_PREFIX):
                locals_.append((len(outcomes), raw))
                outcomes.append({})
                continue
            try:
                outcomes.append(split(raw, new_edits=new_edits))
            except DocumentError as exc:
                outcomes.append(_error(raw_id, raw, exc))
                continue
            streams.append(None if attachment_streams is None else attachment_streams[index])
        incoming = [o for o in outcomes if isinstance(o, Incoming)]
        with self._writing() as conn:
            revs = self._apply(conn, incoming, new_edits, streams, raising=False)
            for index, raw in locals_:
                try:
                    outcomes[index] = write_local(conn, self._cipher, raw)
                except DocumentError as exc:
                    outcomes[index] = _error(raw.get("_id"), raw, exc)
        if len(incoming) == len(outcomes):  # the common case: one rev or error per doc
            results = [
                {"ok": True, "id": doc.id, "rev": rev} if type(rev) is str else _result(doc, rev)
                for doc, rev in zip(incoming, revs, strict=True)
            ]
        else:
            rev_iter = iter(revs)
            results = [
                _result(o, next(rev_iter)) if isinstance(o, Incoming) else o for o in outcomes
            ]
        if not new_edits:
            return [r for r in results if "error" in r]
        return results

    def _apply(
        self,
        conn: sqlite3.Connection,
        docs: list[Incoming],
        new_edits: bool,
        streams: Sequence[Mapping[str, atts.AttachmentSource] | None],
        *,
        raising: bool,
    ) -> list[Any]:
        """Apply edits inside the open write transaction: a rev (or error dict) per doc;
        `streams[i]` holds the attachment bodies of `docs[i]`."""
        batch = Batch(load_states(conn, [d.id for d in docs]), self._revs_limit(conn))
        blobs = atts.BlobStore(conn, self._cipher, self._limits.max_attachment_bytes)
        writer = Writer(conn, self._cipher, blobs, self._limits.max_document_bytes)
        apply = writer.edit if new_edits else writer.graft
        revs: list[Any] = []
        for doc, bodies in zip(docs, streams, strict=True):
            if raising:
                revs.append(apply(batch, doc, bodies))
                continue
            savepoint = bool(doc.attachments)
            if savepoint:
                conn.execute("SAVEPOINT doc")
            try:
                revs.append(apply(batch, doc, bodies))
            except DocumentError as exc:
                if savepoint:
                    conn.execute("ROLLBACK TO doc")
                revs.append(exc.as_json())
            if savepoint:
                conn.execute("RELEASE doc")
        if not batch.changed:
            return revs  # nothing to write: the file stays byte-for-byte as it was
        update_seq = meta_int(conn, "update_seq")
        write_meta(conn, "update_seq", flush(conn, batch, update_seq))
        # Read inside the transaction: another process may have declared an index.
        indexed = maintenance.declared_indexes(conn)
        if indexed:
            maintenance.reindex(conn, self._cipher, list(batch.changed), indexed)
        return revs

    def _revs_limit(self, conn: sqlite3.Connection) -> int:
        return meta_int(conn, "revs_limit", revtree.DEFAULT_REVS_LIMIT)

    # --- attachments ----------------------------------------------------------------------

    def attachment(
        self, doc_id: str, name: str, *, rev: str | None = None
    ) -> atts.AttachmentReader:
        doc = self.get(doc_id, rev=rev)
        meta = (doc.get("_attachments") or {}).get(name)
        if meta is None:
            raise NotFound(f"document {doc_id!r} has no attachment {name!r}")
        key = meta["digest"] if self._cipher is None else self._cipher.blob_key(meta["digest"])
        return atts.AttachmentReader(self.path, connect, key, meta, self._cipher)

    def put_attachment(
        self,
        doc_id: str,
        name: str,
        rev: str | None,
        content_type: str,
        data: atts.AttachmentSource | bytes,
    ) -> dict[str, Any]:
        doc: dict[str, Any] = {"_id": doc_id}
        if rev is not None:
            current = self.get(doc_id, rev=rev)
            doc = {k: v for k, v in current.items() if k != "_revisions"}
        elif self._exists(doc_id):
            raise Conflict(f"document {doc_id!r} exists; give its current rev")
        attachments = dict(doc.get("_attachments") or {})
        attachments[name] = {"follows": True, "content_type": content_type}
        doc["_attachments"] = attachments
        source = [data] if isinstance(data, bytes | bytearray) else data
        return self.put(doc, attachment_streams={name: source})

    def delete_attachment(self, doc_id: str, name: str, rev: str) -> dict[str, Any]:
        doc = self.get(doc_id, rev=rev)
        attachments = dict(doc.get("_attachments") or {})
        if name not in attachments:
            raise NotFound(f"document {doc_id!r} has no attachment {name!r}")
        del attachments[name]
        doc["_attachments"] = attachments
        return self.put(doc)

    def _exists(self, doc_id: str) -> bool:
        with self._reading() as conn:
            row = conn.execute("SELECT deleted FROM docs WHERE doc_id = ?", (doc_id,)).fetchone()
        return row is not None and not row[0]

    # --- _local documents -----------------------------------------------------------------

    def get_local(self, doc_id: str) -> dict[str, Any]:
        with self._reading() as conn:
            return read_local(conn, self._cipher, doc_id)

    def put_local(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        with self._writing() as conn:
            return write_local(conn, self._cipher, doc)

    def delete_local(self, doc_id: str, rev: str) -> dict[str, Any]:
        return self.put_local({"_id": doc_id, "_rev": rev, "_deleted": True})

    # --- maintenance and queries ----------------------------------------------------------

    @property
    def revs_limit(self) -> int:
        with self._reading() as conn:
            return self._revs_limit(conn)

    def set_revs_limit(self, limit: int) -> None:
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise BadRequest(f"revs_limit must be a positive integer, not {limit!r}")
        with self._writing() as conn:
            write_meta(conn, "revs_limit", limit)

    def compact(self) -> None:
        """Drop bodies of non-leaf revisions and attachment data nothing refers to."""
        with self._writing() as conn:
            maintenance.compact(conn)
        with self._write_lock, self._checkpointer.paused():
            self._writer.execute("PRAGMA incremental_vacuum")
            self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def purge(self, request: Mapping[str, list[str]]) -> dict[str, Any]:
        if not isinstance(request, Mapping):
            raise BadRequest("purge takes an object {doc_id: [revs]}")
        for doc_id, revs in request.items():
            if not isinstance(revs, list):
                raise BadRequest(f"purge: revs of {doc_id!r} must be a list")
            for rev in revs:
                revtree.parse_rev(rev)
        with self._writing() as conn:
            indexed = maintenance.declared_indexes(conn)
            return maintenance.purge(conn, self._cipher, request, indexed)

    def create_index(self, fields: list[str], name: str | None = None) -> dict[str, Any]:
        if not isinstance(fields, list) or not fields or not all(
            isinstance(f, str) and f for f in fields
        ):
            raise BadRequest("create_index takes a non-empty list of field names")
        with self._writing() as conn:
            return maintenance.create_index(conn, self._cipher, fields, name)

    def find(
        self,
        selector: Mapping[str, Any],
        *,
        sort: list[Any] | None = None,
        limit: int | None = None,
        skip: int = 0,
        fields: list[str] | None = None,
    ) -> dict[str, Any]:
        with self._reading() as conn:
            indexed = maintenance.declared_indexes(conn)
            docs = maintenance.find(
                conn, self._cipher, indexed, selector, sort, limit, skip,
                Snapshot(conn, self._cipher).load,
            )
        if fields is not None:
            docs = [project_fields(doc, fields) for doc in docs]
        return {"docs": docs}


class _Reader:
    """One thread's read connection; closed when the thread (its only owner) ends."""

    __slots__ = ("__weakref__", "conn")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __del__(self) -> None:
        self.conn.close()


def _rev_list(revs: object, what: str) -> list[str] | None:
    """A list of well-formed revs (or None), else BadRequest naming `what`."""
    if revs is None:
        return None
    if not isinstance(revs, list):
        raise BadRequest(f"{what} must be a list of revs")
    for rev in revs:
        revtree.parse_rev(rev)
    return revs


def _error(doc_id: object, raw: object, exc: DocumentError) -> dict[str, Any]:
    result: dict[str, Any] = {"id": doc_id if isinstance(doc_id, str) else None}
    if isinstance(raw, Mapping) and isinstance(raw.get("_rev"), str):
        result["rev"] = raw["_rev"]
    result.update(exc.as_json())
    return result


def _result(doc: Incoming, outcome: str | dict[str, str]) -> dict[str, Any]:
    """One `_bulk_docs` answer: the new rev, or the error with the rev that was sent."""
    if isinstance(outcome, str):
        return {"ok": True, "id": doc.id, "rev": outcome}
    return {"id": doc.id, **({"rev": doc.rev} if doc.rev else {}), **outcome}
