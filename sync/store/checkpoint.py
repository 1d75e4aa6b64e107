"""Copying the write-ahead log back into the database file, off the writer's path.

A WAL checkpoint is where SQLite waits for the disk: it fsyncs the log, copies its pages
into the database file and fsyncs that. SQLite's automatic checkpoint runs inside the
`COMMIT` that crosses its threshold, so one write in a few hundred waited tens of
milliseconds for the disk (measured: about 7 µs per document of a bulk insert, 13% of its
time). A `Checkpointer` does the same work on a thread of its own with its own connection;
the GIL is released while SQLite runs, so the writer keeps computing its next batch.

Guarantees:
* durability is unchanged: a commit is in the log before `COMMIT` returns, whoever copies
  it back later (a PASSIVE checkpoint never blocks or waits for the writer or readers);
* the log stays bounded: after a commit, a checkpoint starts within `INTERVAL` seconds,
  and the writer's own connection keeps SQLite's automatic checkpoint as a backstop at
  `BACKSTOP_PAGES` (should this thread fall behind or die);
* `close()` (also run when the owning database is garbage-collected, and at interpreter
  exit) stops and joins the thread and closes its connection.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

_log = logging.getLogger(__name__)

# At most one checkpoint per INTERVAL: small writes cost two background fsyncs per
# interval at most, and a bulk load's log holds about INTERVAL seconds of writes.
INTERVAL = 0.25
BACKSTOP_PAGES = 16_384  # the writer checkpoints itself past 128 MiB of log (8 KiB pages)


class Checkpointer:
    """Checkpoints one database file's WAL on a background thread, woken by commits."""

    def __init__(self, path: Path, connect: Callable[[Path], sqlite3.Connection]) -> None:
        self._path = path
        self._connect = connect
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None
        # Held while a checkpoint runs, so another checkpoint in this process (compaction's
        # TRUNCATE) waits for it instead of finding the checkpoint lock busy.
        self.lock = threading.Lock()

    def committed(self) -> None:
        """A write transaction committed: make sure a checkpoint follows soon."""
        if self._stop.is_set():
            return
        if self._thread is None or not self._thread.is_alive():
            self._start()
        self._wake.set()

    def _start(self) -> None:
        # The connection is opened here, by the writer, right after a commit: the file
        # certainly exists, so connecting cannot create an empty one.
        if self._conn is None:
            self._conn = self._connect(self._path)
        self._thread = threading.Thread(
            target=self._run, args=(self._conn,), name=f"checkpoint {self._path.name}",
            daemon=True,
        )
        self._thread.start()

    def _run(self, conn: sqlite3.Connection) -> None:
        while True:
            self._wake.wait()
            if self._stop.is_set():
                return
            self._wake.clear()
            started = time.monotonic()
            try:
                with self.lock:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as exc:  # e.g. the disk is full: the backstop still holds
                _log.warning("background checkpoint of %s failed: %s", self._path, exc)
            # Let commits gather for the rest of the interval (close() ends the wait).
            if self._stop.wait(INTERVAL - (time.monotonic() - started)):
                return

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """No background checkpoint runs inside this block."""
        with self.lock:
            yield

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
