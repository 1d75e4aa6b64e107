"""The write-ahead log is copied back into the database file by a background thread.

Writes return as soon as their transaction is in the log; the log then reaches the main
file without any further write, the thread ends with its database (closed or dropped), and
compaction still empties the log.
"""

from __future__ import annotations

import gc
import sqlite3
import threading
import time
from pathlib import Path

from sync.store import Database, Store
from sync.store.checkpoint import BACKSTOP_PAGES


def _checkpoint_threads(db_path: Path) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"checkpoint {db_path.name}"]


def _docs(count: int, tag: str) -> list[dict[str, object]]:
    return [{"_id": f"{tag}{i:05d}", "tên": "Nguyễn Thị Hạnh", "i": i, "note": "x" * 500}
            for i in range(count)]


def _rows_in_main_file(path: Path) -> int:
    """Documents readable from the main file alone (the log set aside in a copy)."""
    copy = path.with_name("copy.sqlite")
    copy.write_bytes(path.read_bytes())  # no -wal beside the copy: only what was checkpointed
    conn = sqlite3.connect(copy)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM docs").fetchone()[0])
    except sqlite3.OperationalError:  # no such table: even the schema is still in the log
        return 0
    finally:
        conn.close()
        copy.unlink()


def test_the_log_reaches_the_main_file_without_another_write(db: Database) -> None:
    db.bulk_docs(_docs(3000, "a"))
    deadline = time.monotonic() + 20
    while _rows_in_main_file(db.path) < 3000:
        assert time.monotonic() < deadline, "the background checkpoint never came"
        time.sleep(0.05)
    assert len(_checkpoint_threads(db.path)) == 1
    assert db.info()["doc_count"] == 3000


def test_the_writer_keeps_sqlite_s_own_checkpoint_only_as_a_backstop(db: Database) -> None:
    db.put({"_id": "x"})
    limit = db._writer.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    assert limit == BACKSTOP_PAGES > 1000  # SQLite's default (1000) would checkpoint in COMMIT


def test_the_thread_ends_when_its_database_is_closed_or_dropped(store: Store) -> None:
    closed = store.create("closed")
    assert _checkpoint_threads(closed.path) == []  # none before the first write
    closed.put({"_id": "x"})
    assert len(_checkpoint_threads(closed.path)) == 1
    closed.close()
    assert _checkpoint_threads(closed.path) == []
    assert not Path(f"{closed.path}-wal").exists()  # the last connection folded the log in

    dropped = store.create("dropped")
    dropped.put({"_id": "x"})
    path = dropped.path
    del dropped
    gc.collect()
    assert _checkpoint_threads(path) == []
    again = store.open("dropped")
    assert again.get("x")["_id"] == "x"
    again.close()


def test_a_write_that_changes_nothing_starts_no_checkpoint(store: Store) -> None:
    db = store.create("idle")
    db.put({"_id": "x"})
    db.close()
    again = store.open("idle")
    try:
        assert again.bulk_docs([{"_id": "x"}])[0]["error"] == "conflict"
        assert _checkpoint_threads(again.path) == []
    finally:
        again.close()


def test_compaction_still_empties_the_log(db: Database) -> None:
    for round_ in range(3):
        db.bulk_docs(_docs(500, f"r{round_}-"))
        db.compact()
        assert Path(f"{db.path}-wal").stat().st_size == 0
    assert db.info()["doc_count"] == 1500
