"""Benchmark of the embedded store: bulk insert, random get, changes scan, peak RSS.

For N documents of about 1 KB (Vietnamese names, nested fields) it prints:
  * bulk insert docs/s through `Database.bulk_docs` (batches of --batch, one transaction each);
  * the docs/s of a raw baseline: the same JSON into a one-table SQLite schema with plain
    `sqlite3` `executemany`, same batches, same WAL + synchronous=NORMAL;
  * random `get` per second, full changes-feed scan rows per second (pages of 10,000);
  * peak RSS of the process once the documents are read back (they are generated batch by
    batch, never all at once);
  * MB/s of inline base64 attachments written through `Database.bulk_docs` (200 documents
    with three 200 KB photos each, as a device pushes them to the gateway), against a raw
    baseline doing the least any store must: decode the base64, md5 the bytes, insert them
    in 64 KiB chunks with plain `sqlite3`, one transaction per batch of 20 documents. The
    store checkpoints its WAL in a background thread and the baseline in the writing one,
    so compare the work done by the MB per CPU second.
Insert rates are wall-clock; the same rates per second of this process's CPU time (all its
threads, the store's background checkpoint included) are printed too, with the load average
before and after, since on a shared machine other processes' load inflates wall-clock time.

    .venv/bin/python bench/store.py [--docs 100000] [--batch 1000]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import resource
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
from rich.console import Console
from rich.table import Table

from sync import revtree
from sync.store import Database, Store

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Ngọc", "Minh", "Thanh", "Quốc", "Thu", "Gia"]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Giang", "Hạnh", "Hùng", "Lan", "Mai", "Nam", "Phúc",
         "Quang", "Sơn", "Thảo", "Trang", "Tuấn", "Việt", "Yến"]
WARDS = ["Phường Bến Nghé", "Xã Tân Lập", "Phường Hàng Bạc", "Xã Ea Kao", "Thị trấn Phong Điền"]
PROCEDURES = ["Đăng ký khai sinh", "Cấp bản sao trích lục", "Xác nhận tình trạng hôn nhân",
              "Trợ cấp xã hội hàng tháng", "Đăng ký thường trú"]


def make_doc(rng: random.Random, index: int) -> dict[str, Any]:
    name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
    return {
        "_id": f"dossier:{index:08d}",
        "type": "dossier",
        "schema": 1,
        "access": [f"officer:o{rng.randrange(200)}", f"ward:{rng.randrange(20000, 30000)}"],
        "citizen": {
            "full_name": name,
            "birth_year": rng.randrange(1930, 1965),
            "identity_number": f"0{rng.randrange(10**10, 10**11)}",
            "address": {"ward": rng.choice(WARDS), "street": f"Số {rng.randrange(1, 400)} "
                        f"đường {rng.choice(GIVEN)} {rng.choice(GIVEN)}"},
            "phone": f"09{rng.randrange(10**7, 10**8)}",
        },
        "procedure": {"code": f"1.00{rng.randrange(1000, 9999)}", "name": rng.choice(PROCEDURES)},
        "received_at": f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T09:00:00+07:00",
        "appointment": f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
        "status": rng.randrange(1, 11),
        "notes": " ".join(rng.choice(GIVEN) for _ in range(80)),
        "papers": [{"kind": "CCCD", "pages": rng.randrange(1, 3)},
                   {"kind": "Giấy khai sinh", "pages": 1}],
    }


def batches(count: int, size: int, seed: int = 7) -> Iterator[list[dict[str, Any]]]:
    rng = random.Random(seed)
    for start in range(0, count, size):
        yield [make_doc(rng, i) for i in range(start, min(count, start + size))]


def timed(work: Iterator[list[dict[str, Any]]],
          write: Callable[[list[dict[str, Any]]], None]) -> tuple[float, float]:
    """Wall and CPU seconds spent in `write` over every batch (making the batches is not
    counted)."""
    elapsed, cpu = 0.0, 0.0
    for batch in work:
        start, start_cpu = time.perf_counter(), time.process_time()
        write(batch)
        elapsed += time.perf_counter() - start
        cpu += time.process_time() - start_cpu
    return elapsed, cpu


def store_writer(db: Database) -> Callable[[list[dict[str, Any]]], None]:
    def write(batch: list[dict[str, Any]]) -> None:
        results = db.bulk_docs(batch)
        assert all(r.get("ok") for r in results), results[:3]
    return write


def bench_store(data_dir: Path, count: int, size: int) -> dict[str, float]:
    store = Store(data_dir)
    db = store.create("bench")
    elapsed, cpu = timed(batches(count, size), store_writer(db))
    insert_rate, insert_cpu_rate = count / elapsed, count / cpu
    rng = random.Random(11)
    lookups = min(count, 20_000)
    ids = [f"dossier:{rng.randrange(count):08d}" for _ in range(lookups)]
    start = time.perf_counter()
    for doc_id in ids:
        db.get(doc_id)
    get_rate = lookups / (time.perf_counter() - start)
    start, since, rows = time.perf_counter(), 0, 0
    while True:
        page = db.changes(since=since, limit=10_000)
        if not page["results"]:
            break
        rows += len(page["results"])
        since = page["last_seq"]
    scan_rate = rows / (time.perf_counter() - start)
    assert rows == count, (rows, count)
    db.close()
    return {"insert": insert_rate, "insert_cpu": insert_cpu_rate, "get": get_rate,
            "scan": scan_rate}


def rev_id_cost(count: int, size: int) -> float:
    """CPU seconds per document spent in revtree.new_rev_id (the rev hash every edit
    needs: canonical encoding and md5; the store keeps the canonical bytes to store them)."""
    elapsed, done = 0.0, 0
    for batch in batches(min(count, 20_000), size):
        bodies = [{k: v for k, v in doc.items() if not k.startswith("_")} for doc in batch]
        start = time.process_time()
        for body in bodies:
            revtree.new_rev_id(None, False, body, ())
        elapsed += time.process_time() - start
        done += len(bodies)
    return elapsed / done


PHOTO_DOCS, PHOTOS_PER_DOC, PHOTO_BYTES, PHOTO_BATCH = 200, 3, 200 * 1024, 20
PHOTO_MB = PHOTO_DOCS * PHOTOS_PER_DOC * PHOTO_BYTES / 1e6


def photo_batches(seed: int = 5) -> Iterator[list[dict[str, Any]]]:
    rng = random.Random(seed)
    for start in range(0, PHOTO_DOCS, PHOTO_BATCH):
        yield [{"_id": f"evidence:{i:06d}", "type": "evidence", "_attachments": {
            f"photo{k}.jpg": {"content_type": "image/jpeg",
                              "data": base64.b64encode(rng.randbytes(PHOTO_BYTES)).decode()}
            for k in range(PHOTOS_PER_DOC)}} for i in range(start, start + PHOTO_BATCH)]


def bench_store_photos(data_dir: Path) -> tuple[float, float]:
    """MB/s of attachment bytes, wall and per CPU second, inline base64 through bulk_docs."""
    db = Store(data_dir).create("photos")
    elapsed, cpu = timed(photo_batches(), store_writer(db))
    db.close()
    return PHOTO_MB / elapsed, PHOTO_MB / cpu


def raw_sqlite(path: Path, table: str) -> sqlite3.Connection:
    """A plain `sqlite3` database for a baseline: the store's WAL and synchronous=NORMAL."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"CREATE TABLE {table}")
    return conn


def bench_baseline_photos(path: Path) -> tuple[float, float]:
    conn = raw_sqlite(path, "chunks (digest TEXT, idx INTEGER, data BLOB)")

    def write(batch: list[dict[str, Any]]) -> None:
        conn.execute("BEGIN")
        for doc in batch:
            for att in doc["_attachments"].values():
                data = msgspec.convert(att["data"], bytes)  # the fastest decoder we have
                digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
                conn.executemany("INSERT INTO chunks VALUES (?, ?, ?)",
                                 [(digest, n, data[i:i + 65536])
                                  for n, i in enumerate(range(0, len(data), 65536))])
        conn.execute("COMMIT")

    elapsed, cpu = timed(photo_batches(), write)
    conn.close()
    return PHOTO_MB / elapsed, PHOTO_MB / cpu


def bench_baseline(path: Path, count: int, size: int) -> tuple[float, float]:
    conn = raw_sqlite(path, "docs (id TEXT PRIMARY KEY, body TEXT NOT NULL)")

    def write(batch: list[dict[str, Any]]) -> None:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO docs(id, body) VALUES (?, ?)",
            [(doc["_id"], json.dumps(doc, ensure_ascii=False)) for doc in batch],
        )
        conn.execute("COMMIT")

    elapsed, cpu = timed(batches(count, size), write)
    conn.close()
    return count / elapsed, count / cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    console = Console()
    load_before = os.getloadavg()[0]
    sample = json.dumps(make_doc(random.Random(1), 0), ensure_ascii=False).encode()
    with tempfile.TemporaryDirectory() as tmp:
        with console.status(f"store: {args.docs:,} documents…"):
            figures = bench_store(Path(tmp) / "store", args.docs, args.batch)
        with console.status("raw sqlite3 baseline…"):
            baseline, baseline_cpu = bench_baseline(
                Path(tmp) / "baseline.sqlite", args.docs, args.batch
            )
        rev_id = rev_id_cost(args.docs, args.batch)
        # Before the attachments: their batches of base64 are not what the target bounds.
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        with console.status("inline attachments…"):
            photos, photos_cpu = bench_store_photos(Path(tmp) / "photos")
            photos_base, photos_base_cpu = bench_baseline_photos(Path(tmp) / "photos.sqlite")
    table = Table(title=f"Embedded store, {args.docs:,} documents of ~{len(sample)} bytes")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    table.add_row("bulk insert (docs/s)", f"{figures['insert']:,.0f}", "≥ 20,000")
    table.add_row("raw sqlite3 baseline (docs/s)", f"{baseline:,.0f}", "")
    table.add_row("store / baseline", f"{figures['insert'] / baseline:.2f}", "≥ 0.25")
    table.add_row("bulk insert per CPU second (docs/s)", f"{figures['insert_cpu']:,.0f}", "")
    table.add_row("baseline per CPU second (docs/s)", f"{baseline_cpu:,.0f}", "")
    table.add_row("insert time per doc (µs wall)", f"{1e6 / figures['insert']:,.1f}", "")
    table.add_row("insert time per doc (µs CPU)", f"{1e6 / figures['insert_cpu']:,.1f}", "")
    table.add_row("  of which revtree.new_rev_id (µs CPU)", f"{rev_id * 1e6:,.1f}", "")
    table.add_row("random get (docs/s)", f"{figures['get']:,.0f}", "")
    table.add_row("changes scan (rows/s)", f"{figures['scan']:,.0f}", "")
    table.add_row("inline attachments (MB/s)", f"{photos:,.0f}", "")
    table.add_row("  raw baseline: base64, md5, sqlite3 (MB/s)", f"{photos_base:,.0f}", "")
    table.add_row("  per CPU second, store / baseline (MB/s)",
                  f"{photos_cpu:,.0f} / {photos_base_cpu:,.0f}", "")
    table.add_row("  store / baseline, per CPU second", f"{photos_cpu / photos_base_cpu:.2f}", "")
    table.add_row(f"peak RSS with {args.docs:,} documents (MB)", f"{peak_mb:,.0f}", "≤ 200")
    table.add_row("load average (1 min), before / after",
                  f"{load_before:.2f} / {os.getloadavg()[0]:.2f}", f"{os.cpu_count()} CPUs")
    console.print(table)


if __name__ == "__main__":
    main()
