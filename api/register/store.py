"""The register's SQLite file: the documents it was built from, the rows, the checkpoint.

Guarantees:
- A batch of changes, the rows it affects and the feed checkpoint are written in one
  transaction: killed at any point, the file holds a consistent state up to a checkpoint
  and the follower resumes from it, re-applying nothing twice (writes are upserts).
- An event may arrive before its dossier (they are keyed by the dossier's provisional
  code): it is kept, and the dossier's row is computed from it when the dossier arrives.
- WAL mode: readers (request threads, each with its own connection) never wait for the
  follower's writes, and see whole batches only.
- A file written by another schema version, or built from another central database, is
  rebuilt from scratch rather than trusted.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from api.register.compute import DossierDocs, search_text
from api.register.queries import due_key
from api.register.rows import RegisterRow
from api.register.sql import SCHEMA, SCHEMA_VERSION, TEXT_HITS
from dossiers.calendar import local_time

ComputeRow = Callable[[DossierDocs], RegisterRow]

_ROW_ENCODER = msgspec.json.Encoder()
_ROW_DECODER = msgspec.json.Decoder(RegisterRow)
_DOC_DECODER = msgspec.json.Decoder(dict[str, Any])
_BY_TYPE = {"intake-outcome": "outcome_docs", "result": "result_docs"}


def encode_row(row: RegisterRow) -> bytes:
    return _ROW_ENCODER.encode(row)


def decode_row(data: bytes) -> RegisterRow:
    return _ROW_DECODER.decode(data)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA busy_timeout = 10000")
    # The indexes of 100,000 rows must stay in memory while a build updates them.
    conn.execute("PRAGMA cache_size = -65536")
    return conn


class RegisterStore:
    def __init__(self, path: Path, source: str) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = _connect(path)
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        # What the file was built by and from: a mismatch means rebuild, not trust.
        self._identity = {"schema": str(SCHEMA_VERSION), "source": source}
        self._prepare(source)

    # --- the file -----------------------------------------------------------------------

    def _prepare(self, source: str) -> None:
        self._writer.executescript(SCHEMA)
        self._writer.execute(
            "CREATE TEMP TABLE IF NOT EXISTS touched (dossier_id TEXT PRIMARY KEY)")
        stored = dict(self._writer.execute("SELECT key, value FROM meta").fetchall())
        if stored and any(stored.get(k) != v for k, v in self._identity.items()):
            self.reset()
        with self._writing() as conn:
            conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                             self._identity.items())

    def reset(self) -> None:
        """Forget everything: the next catch-up rebuilds from the start of the feed."""
        with self._writing() as conn:
            for table in ("meta", "dossier_docs", "event_docs", "outcome_docs", "result_docs",
                          "rows"):
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            conn.execute("INSERT INTO rows_text (rows_text) VALUES ('delete-all')")
            conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)",
                             self._identity.items())

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock:
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")

    def reader(self) -> sqlite3.Connection:
        """This thread's read connection (request threads come from a pool: reused)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path)
            conn.execute("PRAGMA query_only = ON")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def close(self) -> None:
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        with self._write_lock:
            self._writer.close()

    def checkpoint(self) -> bytes | None:
        row = self.reader().execute("SELECT value FROM meta WHERE key = 'since'").fetchone()
        return str(row[0]).encode() if row else None

    def analyze(self) -> None:
        """Refresh the planner's statistics (after a build), so it picks the right index."""
        with self._write_lock:
            # Sampled statistics: bounded cost however large the register grows.
            self._writer.execute("PRAGMA analysis_limit = 2000")
            self._writer.execute("ANALYZE")

    # --- applying changes ---------------------------------------------------------------

    def apply(self, changes: Iterable[Mapping[str, Any]], since: bytes,
              compute: ComputeRow) -> int:
        """Store a batch of changes, recompute the rows they touch, move the checkpoint.
        Answers how many rows were recomputed."""
        with self._writing() as conn:
            dossiers: set[str] = set()
            codes: set[str] = set()
            for change in changes:
                _store_change(conn, change, dossiers, codes)
            dossiers |= _dossiers_for(conn, codes)
            _refresh_rows(conn, dossiers, compute)
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('since', ?)",
                         (since.decode(),))
            return len(dossiers)

    # --- reading ------------------------------------------------------------------------

    def docs(self, dossier_id: str) -> DossierDocs | None:
        return _load_docs(self.reader(), dossier_id)

    def dossier_id_for(self, provisional_code: str) -> str | None:
        row = self.reader().execute(
            "SELECT dossier_id FROM dossier_docs WHERE provisional_code = ?",
            (provisional_code,)).fetchone()
        return str(row[0]) if row else None

    def row(self, dossier_id: str) -> RegisterRow | None:
        found = self.reader().execute("SELECT row FROM rows WHERE dossier_id = ?",
                                      (dossier_id,)).fetchone()
        return decode_row(found[0]) if found else None

    def select(self, sql: str, params: list[Any]) -> list[tuple[str, str, RegisterRow]]:
        return [(str(key), str(dossier_id), decode_row(data))
                for key, dossier_id, data in self.reader().execute(sql, params)]

    def text_hits(self, match: str, cap: int) -> list[int]:
        """Rows whose folded text matches (an FTS5 query), at most `cap` of them."""
        return [int(r[0]) for r in self.reader().execute(TEXT_HITS, (match, cap))]

    def plan(self, sql: str, params: list[Any]) -> list[str]:
        """EXPLAIN QUERY PLAN of a query, one line per step (for tests and diagnosis)."""
        return [str(r[3]) for r in self.reader().execute("EXPLAIN QUERY PLAN " + sql, params)]

    def count(self) -> int:
        return int(self.reader().execute("SELECT COUNT(*) FROM rows").fetchone()[0])


def _store_change(conn: sqlite3.Connection, change: Mapping[str, Any], dossiers: set[str],
                  codes: set[str]) -> None:
    doc_id = str(change["id"])
    doc = change.get("doc")
    if change.get("deleted") or not isinstance(doc, Mapping) or doc.get("_deleted"):
        _forget(conn, doc_id, dossiers, codes)
        return
    kind = doc.get("type")
    body = msgspec.json.encode(doc)
    if kind == "dossier":
        code = str(doc.get("provisional_code", ""))
        conn.execute("INSERT OR REPLACE INTO dossier_docs VALUES (?, ?, ?)", (doc_id, code, body))
        dossiers.add(doc_id)
    elif kind == "event":
        code = str(doc.get("dossier", ""))
        old = conn.execute("SELECT provisional_code FROM event_docs WHERE event_id = ?",
                           (doc_id,)).fetchone()
        if old is not None:
            codes.add(str(old[0]))
        conn.execute("INSERT OR REPLACE INTO event_docs VALUES (?, ?, ?)", (doc_id, code, body))
        codes.add(code)
    elif kind in _BY_TYPE:
        dossier_id = str(doc.get("dossier_id") or doc_id.split(":", 1)[-1])
        conn.execute(f"INSERT OR REPLACE INTO {_BY_TYPE[str(kind)]} VALUES (?, ?)",  # noqa: S608
                     (dossier_id, body))
        dossiers.add(dossier_id)
    else:
        # Its type may have changed (not expected, but a stale copy must not linger).
        _forget(conn, doc_id, dossiers, codes)


def _forget(conn: sqlite3.Connection, doc_id: str, dossiers: set[str], codes: set[str]) -> None:
    """A deleted (or no longer indexed) document leaves whichever table held it."""
    if conn.execute("DELETE FROM dossier_docs WHERE dossier_id = ?", (doc_id,)).rowcount:
        dossiers.add(doc_id)
    old = conn.execute("SELECT provisional_code FROM event_docs WHERE event_id = ?",
                       (doc_id,)).fetchone()
    if old is not None:
        conn.execute("DELETE FROM event_docs WHERE event_id = ?", (doc_id,))
        codes.add(str(old[0]))
    for prefix, table in (("intake:", "outcome_docs"), ("result:", "result_docs")):
        if doc_id.startswith(prefix):
            dossier_id = doc_id[len(prefix):]
            if conn.execute(f"DELETE FROM {table} WHERE dossier_id = ?",  # noqa: S608
                            (dossier_id,)).rowcount:
                dossiers.add(dossier_id)


def _dossiers_for(conn: sqlite3.Connection, codes: set[str]) -> set[str]:
    found: set[str] = set()
    for code in codes:
        found.update(str(r[0]) for r in conn.execute(
            "SELECT dossier_id FROM dossier_docs WHERE provisional_code = ?", (code,)))
    return found


def _load_docs(conn: sqlite3.Connection, dossier_id: str) -> DossierDocs | None:
    found = conn.execute("SELECT provisional_code, body FROM dossier_docs WHERE dossier_id = ?",
                         (dossier_id,)).fetchone()
    if found is None:
        return None
    code, body = found
    events = tuple(_DOC_DECODER.decode(r[0]) for r in conn.execute(
        "SELECT body FROM event_docs WHERE provisional_code = ? ORDER BY event_id", (code,)))
    outcome = conn.execute("SELECT body FROM outcome_docs WHERE dossier_id = ?",
                           (dossier_id,)).fetchone()
    result = conn.execute("SELECT body FROM result_docs WHERE dossier_id = ?",
                          (dossier_id,)).fetchone()
    return DossierDocs(_DOC_DECODER.decode(body), events,
                       _DOC_DECODER.decode(outcome[0]) if outcome else None,
                       _DOC_DECODER.decode(result[0]) if result else None)


_UPSERT = (
    "INSERT INTO rows (dossier_id, provisional_code, procedure_code, officer_id, ward, "
    "status, received_day, due_key, open, search, row) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (dossier_id) DO UPDATE SET provisional_code = excluded.provisional_code, "
    "procedure_code = excluded.procedure_code, officer_id = excluded.officer_id, "
    "ward = excluded.ward, status = excluded.status, received_day = excluded.received_day, "
    "due_key = excluded.due_key, open = excluded.open, search = excluded.search, "
    "row = excluded.row")
_TOUCHED = "SELECT n, search FROM rows WHERE dossier_id IN (SELECT dossier_id FROM touched)"


def _row_values(dossier_id: str, row: RegisterRow) -> tuple[Any, ...]:
    received = local_time(row.received_at).date().isoformat() if row.received_at else None
    return (dossier_id, row.provisional_code, row.procedure_code, row.officer_id, row.ward,
            row.status, received, due_key(row.due_date), int(row.ended_at is None),
            search_text(row), encode_row(row))


def _refresh_rows(conn: sqlite3.Connection, dossier_ids: set[str], compute: ComputeRow) -> None:
    """Recompute the rows of `dossier_ids` (a dossier no longer stored loses its row).

    The text index holds external content: the old text is removed before the rows
    change and the new text added after, set-wise over the batch rather than row by row."""
    conn.execute("DELETE FROM touched")
    conn.executemany("INSERT INTO touched (dossier_id) VALUES (?)", ((i,) for i in dossier_ids))
    conn.execute("INSERT INTO rows_text (rows_text, rowid, search) "
                 "SELECT 'delete', n, search FROM rows WHERE dossier_id IN "
                 "(SELECT dossier_id FROM touched)")
    upserts: list[tuple[Any, ...]] = []
    gone: list[tuple[str]] = []
    for dossier_id in sorted(dossier_ids):
        docs = _load_docs(conn, dossier_id)
        if docs is None:
            gone.append((dossier_id,))
        else:
            upserts.append(_row_values(dossier_id, compute(docs)))
    conn.executemany("DELETE FROM rows WHERE dossier_id = ?", gone)
    conn.executemany(_UPSERT, upserts)
    conn.execute("INSERT INTO rows_text (rowid, search) " + _TOUCHED)
