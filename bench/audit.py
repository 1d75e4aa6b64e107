"""Benchmark of the audit log: the cost of one record, and of the queries people ask.

Prints, on the embedded store (default) or a CouchDB-protocol server (`--couchdb URL`):
  * `record` latency (p50, p99) for an act on 1 dossier and on a list of 50;
  * with --entries acts already in the log (other dossiers, every 5 minutes from January):
    one dossier's month (`dossier=` + `from`/`to`), and the first page of 50 of a month
    with no filter — median latency and the rows each read (its key range, not the log).

    .venv/bin/python bench/audit.py [--entries 100000] [--couchdb http://127.0.0.1:5984]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from api.audit import AuditLog, parse_query
from api.audit.entries import documents, new_entry
from api.auth.service import Identity

WHO = Identity("handler1", "handler", "bench-device", ())


class Counting:
    """The real database, counting the rows its reads hand back."""

    def __init__(self, db: Any) -> None:
        self.db, self.rows = db, 0

    def all_docs(self, **kwargs: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self.db.all_docs(**kwargs)
        self.rows += len(answer["rows"])
        return answer

    def bulk_get(self, requests: list[Any]) -> dict[str, Any]:
        answer: dict[str, Any] = self.db.bulk_get(requests)
        self.rows += len(answer["results"])
        return answer

    def bulk_docs(self, docs: list[Any]) -> list[Any]:
        rows: list[Any] = self.db.bulk_docs(docs)
        return rows


def _ms(samples: list[float]) -> tuple[str, str]:
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return f"{statistics.median(samples) * 1e3:.2f}", f"{p99 * 1e3:.2f}"


def _fill(db: Any, entries: int) -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    batch: list[dict[str, Any]] = []
    for n in range(entries):
        entry = new_entry("handler2", "handler", "d", "dossier.read", [f"dossier:X{n % 3000}"],
                          "", start + dt.timedelta(minutes=5 * n))
        batch.extend(documents(entry))
        if len(batch) >= 5000:
            db.bulk_docs(batch)
            batch = []
    if batch:
        db.bulk_docs(batch)


def _query(db: Counting, params: dict[str, str], runs: int = 20) -> tuple[str, int, int]:
    log, times = AuditLog(db), []
    for _ in range(runs):
        db.rows = 0
        started = time.perf_counter()
        page = log.query(parse_query(params))
        times.append(time.perf_counter() - started)
    return _ms(times)[0], len(page.items), db.rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--couchdb", help="a CouchDB (or PouchDB Server) URL")
    args = parser.parse_args()
    if args.couchdb:
        from sync.couchdb import CouchServer

        db = CouchServer(args.couchdb).open(f"bench-audit-{uuid.uuid4().hex[:8]}", create=True)
        backend = "couchdb"
    else:
        from sync.store import Store

        db = Store(Path(tempfile.mkdtemp(prefix="bench-audit-"))).open("audit", create=True)
        backend = "embedded"
    table = Table(title=f"audit log on {backend}")
    for column in ("measure", "median ms", "p99 ms", "entries", "rows read"):
        table.add_column(column)
    log = AuditLog(db)
    for ids in (1, 50):
        times = []
        for i in range(300):
            started = time.perf_counter()
            log.record(WHO, "dossier.list", [f"dossier:R{i}-{k}" for k in range(ids)])
            times.append(time.perf_counter() - started)
        table.add_row(f"record, {ids} dossier id(s)", *_ms(times), "1", "-")
    _fill(db, args.entries)
    counting = Counting(db)
    month = {"from": "2026-03-01", "to": "2026-03-31"}
    median, found, rows = _query(counting, {"dossier": "dossier:X17", **month})
    table.add_row(f"one dossier's March, {args.entries:,} acts in the log", median, "-",
                  str(found), str(rows))
    median, found, rows = _query(counting, {"limit": "50", **month})
    table.add_row("first page of 50 of March, no filter", median, "-", str(found), str(rows))
    Console().print(table)


if __name__ == "__main__":
    main()
