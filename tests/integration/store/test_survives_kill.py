"""A writer killed with SIGKILL in the middle of bulk writes loses nothing it acknowledged.

The child (kill_writer.py) writes batches and prints an acknowledgement after each commit,
compacting now and then.
We kill it at random moments, many times (half of the runs on an encrypted database), and
after each kill reopen the database and check: every acknowledged revision is there with
its body, every batch is all-or-nothing, the changes feed and the documents agree, and
SQLite's integrity check passes.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from sync.store import Database, Store

CHILD = Path(__file__).with_name("kill_writer.py")
KILLS = 32
BATCH = 40


def run_and_kill(data_dir: Path, run: int, key: bytes | None, rng: random.Random) -> list[dict]:
    args = [sys.executable, str(CHILD), str(data_dir), str(run)]
    if key is not None:
        args.append(key.hex())
    child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    acks: list[dict[str, Any]] = []
    first = threading.Event()

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            if line.endswith(b"\n"):
                acks.append(json.loads(line))
                first.set()

    reader = threading.Thread(target=read)
    reader.start()
    assert first.wait(30), child.stderr.read().decode() if child.stderr else "no output"
    time.sleep(rng.uniform(0.0, 0.25))
    child.send_signal(signal.SIGKILL)
    child.wait()
    reader.join()
    assert child.returncode == -signal.SIGKILL, child.stderr.read().decode()
    return acks


def check_consistent(db: Database) -> None:
    conn = sqlite3.connect(db.path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        docs_without_body = conn.execute(
            "SELECT COUNT(*) FROM docs d LEFT JOIN revs r ON r.doc_id = d.doc_id "
            "AND r.rev = d.winner WHERE r.doc_id IS NULL"
        ).fetchone()[0]
        assert docs_without_body == 0
        orphan_revs = conn.execute(
            "SELECT COUNT(*) FROM revs r LEFT JOIN docs d ON d.doc_id = r.doc_id "
            "WHERE d.doc_id IS NULL"
        ).fetchone()[0]
        assert orphan_revs == 0
    finally:
        conn.close()
    info = db.info()
    feed = db.changes()
    seqs = [row["seq"] for row in feed["results"]]
    assert seqs == sorted(set(seqs))
    assert len(seqs) == info["doc_count"] + info["doc_del_count"]
    assert feed["last_seq"] == info["update_seq"] == (seqs[-1] if seqs else 0)
    listed = {row["id"]: row["value"]["rev"] for row in db.all_docs()["rows"]}
    assert listed == {row["id"]: row["changes"][0]["rev"] for row in feed["results"]}


def check_batches_whole(db: Database, run: int, acked: int) -> None:
    """Batches of `run` are all there (acked ones surely) or entirely absent."""
    present: dict[int, int] = {}
    for row in db.all_docs(startkey=f"r{run}-", endkey=f"r{run}-\uffff")["rows"]:
        batch = int(row["id"].split("-")[1][1:])
        present[batch] = present.get(batch, 0) + 1
    assert all(count == BATCH for count in present.values()), present
    assert set(range(acked)) <= set(present)


@pytest.mark.slow
def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    rng = random.Random(20261127)
    data_dir = tmp_path / "data"
    key = os.urandom(32)
    encrypted_runs = set(range(0, KILLS, 2))
    stores = {True: data_dir / "enc", False: data_dir / "plain"}
    total_acks = 0
    for run in range(KILLS):
        encrypted = run in encrypted_runs
        acks = run_and_kill(stores[encrypted], run, key if encrypted else None, rng)
        total_acks += len(acks)
        db = Store(stores[encrypted]).open("survivor", key=key if encrypted else None)
        try:
            for ack in acks:
                # (the counter's older revisions may be compacted away: checked below)
                wanted = [{"id": i, "rev": r} for i, r in ack["revs"].items() if i != "counter"]
                docs = db.bulk_get(wanted)
                for result in docs["results"]:
                    assert "ok" in result["docs"][0], result
            check_batches_whole(db, run, len(acks))
            counter = db.get("counter")
            assert (counter["run"], counter["batch"]) >= (run, len(acks) - 1)
            photo = db.attachment(f"r{run}-b0-0", "photo.jpg").read()
            assert photo == f"photo {run}/0".encode() * 300
            check_consistent(db)
        finally:
            db.close()
    assert total_acks >= KILLS
