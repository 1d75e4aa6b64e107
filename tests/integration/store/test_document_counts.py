"""`info()` counts and `total_rows` come from a row the triggers keep, not from a scan: they
must equal a scan after every kind of write, and a file written before the counts existed
gets them when it is opened."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from sync.store import Database, Store
from sync.store.schema import MIGRATIONS, SCHEMA_VERSION, connect


def _scanned(path: Path) -> tuple[int, int]:
    with sqlite3.connect(path) as conn:
        live, dead = conn.execute(
            "SELECT COUNT(*) - COALESCE(SUM(deleted), 0), COALESCE(SUM(deleted), 0) FROM docs"
        ).fetchone()
    return int(live), int(dead)


def _counted(db: Database) -> tuple[int, int]:
    info = db.info()
    assert db.all_docs(limit=0)["total_rows"] == info["doc_count"]
    return info["doc_count"], info["doc_del_count"]


def test_counts_follow_every_kind_of_write(store: Store) -> None:
    db = store.create("counted")
    path = store.path_of("counted")
    rng = random.Random(7)
    for step in range(400):
        doc_id = f"d{rng.randrange(60)}"
        row, action = _row(path, doc_id), rng.random()
        if action < 0.4:  # create, update, or undelete (a put on top of the tombstone)
            db.put({"_id": doc_id, "n": step, **({"_rev": row[0]} if row else {})})
        elif action < 0.6 and row and not row[1]:
            db.delete(doc_id, row[0])
        elif action < 0.8:  # a replicated branch, maybe a deleted one
            rev = f"{rng.randint(1, 9)}-{rng.randrange(16**32):032x}"
            db.bulk_docs([{"_id": doc_id, "_rev": rev, "_deleted": rng.random() < 0.3}],
                         new_edits=False)
        elif action < 0.95 and row:  # purge the winner: another leaf may take its place
            db.purge({doc_id: [row[0]]})
        else:
            db.compact()
        assert _counted(db) == _scanned(path), f"after step {step}"
    assert all(_counted(db)), "the walk left both live and deleted documents"
    db.close()


def _row(path: Path, doc_id: str) -> tuple[str, bool] | None:
    """The document's winning revision and whether it is deleted, read from the file."""
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT winner, deleted FROM docs WHERE doc_id = ?",
                           (doc_id,)).fetchone()
    return None if row is None else (str(row[0]), bool(row[1]))


def test_a_file_from_before_the_counts_gets_them_on_opening(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    db = store.create("old")
    for n in range(30):
        rev = db.put({"_id": f"d{n}"})["rev"]
        if n % 3 == 0:
            db.delete(f"d{n}", rev)
    db.close()
    path = store.path_of("old")
    _downgrade_to_version_1(path)

    again = store.open("old")
    assert again.info()["disk_format_version"] == SCHEMA_VERSION
    assert _counted(again) == (20, 10) == _scanned(path)
    again.put({"_id": "new"})
    assert _counted(again) == (21, 10)
    again.close()


def _downgrade_to_version_1(path: Path) -> None:
    """What a file written by schema version 1 held: no counts table, no triggers."""
    conn = connect(path)
    assert len(MIGRATIONS) == 2, "a newer migration: extend this downgrade"
    conn.execute("BEGIN")
    for name in ("docs_counted_insert", "docs_counted_update", "docs_counted_delete"):
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("DROP TABLE doc_counts")
    conn.execute("UPDATE meta SET value = 1 WHERE key = 'schema_version'")
    conn.execute("COMMIT")
    conn.close()
