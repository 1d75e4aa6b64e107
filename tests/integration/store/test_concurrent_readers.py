"""Readers in threads and in another process alongside one writer; long-poll wake-up time.

Readers must always see a consistent snapshot (feed rows and documents agree, seqs only
grow), and a long-poll reader — in the writer's process or another one — must wake within
50 ms of a write. Latency is measured from just *before* the write call starts (so the
write's own time counts against us) to the moment `changes` returns; the worst of several
writes is asserted.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from sync.store import Database, Store

WAKE_LIMIT = 0.050
HERE = Path(__file__).parent


def test_reader_threads_see_consistent_snapshots_while_one_thread_writes(db: Database) -> None:
    stop = threading.Event()
    problems: list[str] = []
    reads = [0]

    def writer() -> None:
        n = 0
        while not stop.is_set():
            db.bulk_docs([{"_id": f"w{n}-{i}", "n": n} for i in range(20)])
            first = db.get(f"w{n}-0")
            db.put({**first, "updated": True})
            n += 1

    def reader() -> None:
        last = 0
        while not stop.is_set():
            feed = db.changes(since=0, include_docs=True)
            seqs = [row["seq"] for row in feed["results"]]
            if seqs != sorted(seqs) or (seqs and seqs[-1] != feed["last_seq"]):
                problems.append(f"feed out of order: {seqs[-3:]} last_seq {feed['last_seq']}")
            if feed["last_seq"] < last:
                problems.append("last_seq went backwards")
            last = feed["last_seq"]
            for row in feed["results"][-5:]:
                if row["doc"]["_rev"] != row["changes"][0]["rev"]:
                    problems.append(f"doc and feed disagree on {row['id']}")
            if len(feed["results"]) % 20 != 0:
                problems.append(f"half a batch visible: {len(feed['results'])} rows")
            reads[0] += 1

    threads = [threading.Thread(target=writer)]
    threads += [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(2.0)
    stop.set()
    for thread in threads:
        thread.join()
    assert problems == []
    assert reads[0] > 10


def test_reader_processes_see_the_writer_and_long_polls_wake_fast(store: Store) -> None:
    db = store.create("shared")
    children = [
        subprocess.Popen(
            [sys.executable, str(HERE / "longpoll_reader.py"), str(store.data_dir), "8"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(2)
    ]
    latencies = []
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().startswith("ready")
        for n in range(8):
            time.sleep(0.2)  # let the children go back to waiting
            started = time.monotonic()
            db.put({"_id": f"cross-{n}"})
            for child in children:
                assert child.stdout is not None
                woke, ids = child.stdout.readline().split()
                assert ids == f"cross-{n}"
                latencies.append(float(woke) - started)
    finally:
        for child in children:
            child.wait(timeout=30)
        db.close()
    for child in children:
        assert child.returncode == 0, child.stderr.read() if child.stderr else ""
    print("wake-up latencies (ms):", [round(x * 1000, 1) for x in latencies])
    assert max(latencies) < WAKE_LIMIT, f"wake-up latencies {latencies}"


def test_a_long_poll_in_the_same_process_wakes_fast(db: Database) -> None:
    latencies: list[float] = []
    woke: list[float] = []
    since = db.info()["update_seq"]

    def wait_once(since: int) -> None:
        feed = db.changes(since=since, timeout=10)
        woke.append(time.monotonic())
        assert feed["results"]

    for n in range(8):
        waiter = threading.Thread(target=wait_once, args=(since,))
        waiter.start()
        time.sleep(0.1)
        started = time.monotonic()
        db.put({"_id": f"local-{n}"})
        since = db.info()["update_seq"]
        waiter.join()
        latencies.append(woke[-1] - started)
    print("wake-up latencies (ms):", [round(x * 1000, 1) for x in latencies])
    assert max(latencies) < WAKE_LIMIT, f"wake-up latencies {latencies}"


def test_a_long_poll_with_nothing_new_returns_at_its_timeout(db: Database) -> None:
    db.put({"_id": "x"})
    started = time.monotonic()
    feed = db.changes(since=1, timeout=0.2)
    elapsed = time.monotonic() - started
    assert feed == {"results": [], "last_seq": 1}
    assert 0.19 <= elapsed < 1.0


WRITER = """
import sys
from sync.store import Store
db = Store(sys.argv[1]).open("shared")
for n in range(30):
    db.bulk_docs([{"_id": f"{sys.argv[2]}-{n}-{i}"} for i in range(25)])
db.close()
"""


def test_writers_in_two_processes_take_turns_and_never_share_a_seq(store: Store) -> None:
    store.create("shared").close()
    children = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(store.data_dir), name],
                         stderr=subprocess.PIPE, text=True)
        for name in ("left", "right")
    ]
    for child in children:
        child.wait(timeout=120)
        assert child.returncode == 0, child.stderr.read() if child.stderr else ""
    db = store.open("shared")
    try:
        feed = db.changes()
        seqs = [row["seq"] for row in feed["results"]]
        assert len(seqs) == 2 * 30 * 25
        assert seqs == list(range(1, len(seqs) + 1))
        assert db.info()["update_seq"] == len(seqs)
    finally:
        db.close()
