"""The register at scale (slow): build it from a feed of N dossiers and their documents
(≈ 3.5 N documents), reopen it without rebuilding, and time the list's common queries.

N is 20,000 in CI; `REGISTER_SCALE=100000` measures the 100,000-dossier case:

    REGISTER_SCALE=100000 .venv/bin/pytest -s \
        tests/integration/back_office/test_register_at_scale.py

The figures are printed; the bounds asserted are loose (a shared 2-core CI machine).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import time
from pathlib import Path

import pytest
import register_helpers
from register_helpers import LOCAL_TZ

from api.register.queries import DossierQuery
from api.register.service import Register
from sync.store import Store

SCALE = int(os.environ.get("REGISTER_SCALE", "20000"))
TODAY = dt.date(2026, 4, 15)


def _queries(rng: random.Random, register: Register) -> list[DossierQuery]:
    first = register.search(DossierQuery(), TODAY)
    mix = [DossierQuery(), DossierQuery(status=("processing",)),
           DossierQuery(status=("received", "accepted")), DossierQuery(procedure="1.001776"),
           DossierQuery(officer="officer2"), DossierQuery(ward="00003"),
           DossierQuery(overdue=True), DossierQuery(due_within_days=3),
           DossierQuery(text="nguyen thi"), DossierQuery(text="dang van xuan"),
           DossierQuery(text="nguyen"), DossierQuery(text="khong co ai"),
           DossierQuery(text="00104"), DossierQuery(cursor=first.next_cursor),
           DossierQuery(received_from=dt.date(2026, 3, 10), received_to=dt.date(2026, 3, 11))]
    return [rng.choice(mix) for _ in range(400)]


@pytest.mark.slow
def test_register_builds_reopens_and_answers_at_scale(tmp_path: Path) -> None:
    central = Store(tmp_path / "db").open("doorstep", create=True)
    start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=LOCAL_TZ)
    began = time.perf_counter()
    register_helpers.store(central, list(register_helpers.many(SCALE, start)), batch=2000)
    documents = int(central.info()["update_seq"])
    stored = time.perf_counter() - began

    began, cpu = time.perf_counter(), time.process_time()
    register = Register.open(central, tmp_path)
    register.catch_up()
    build, build_cpu = time.perf_counter() - began, time.process_time() - cpu
    assert register.count() == SCALE
    register.close()

    began = time.perf_counter()
    reopened = Register.open(central, tmp_path)
    reopened.catch_up()
    reopen = time.perf_counter() - began
    assert reopened.count() == SCALE

    timings: list[float] = []
    for query in _queries(random.Random(7), reopened):
        began = time.perf_counter()
        reopened.search(query, TODAY)
        timings.append(time.perf_counter() - began)
    reopened.close()
    central.close()
    timings.sort()
    p50, p99 = statistics.median(timings), timings[int(len(timings) * 0.99) - 1]
    print(f"\nregister: {SCALE} dossiers, {documents} documents stored in {stored:.1f} s; "
          f"built in {build:.1f} s wall ({build_cpu:.1f} s CPU, "
          f"{documents / build:.0f} documents/s); reopened and caught up in "
          f"{reopen * 1000:.0f} ms; search p50 {p50 * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms, "
          f"max {timings[-1] * 1000:.2f} ms")
    assert reopen < 5, "reopening rebuilt the register instead of resuming"
    # In-process search only: the 50 ms target is for the whole HTTP request at 100/s
    # (bench/intake.py); here, room for a loaded CI machine's pauses.
    assert p50 < 0.01 and p99 < 0.1
    assert build_cpu / SCALE < 0.01, "more than 10 ms of CPU per dossier to build"
