"""Benchmark of the back office's intake and dossier list; prints its figures in one run.

1. Intake: N real dossiers, each a declaration rendered and signed by a device (drawn citizen
   signature + device certificate; signed in a process pool beforehand, not timed), taken in
   by ONE intake worker thread on the embedded store: validation (every signature, trust,
   revocation, modifications, embedded JSON), official code, receipt event, B-LT + B-LTA
   document timestamp from the district TSA, outcome. Prints dossiers/s (wall), the median
   wall and CPU time per dossier, and dossiers/s per core (1 / median CPU seconds: the
   figure that does not depend on what else the machine runs). Target: >= 10 per core.
2. Dossier list: `GET /api/dossiers` against a real `doorstep serve` process on the embedded
   store holding --dossiers dossiers (default 100,000), each with its intake outcome and a
   few events, written with bulk_docs and indexed by the register before the server starts.
   Open loop at a fixed --rate (default 100 requests/s): each request is sent at its
   scheduled time whatever the previous ones do, and its latency is counted from that
   scheduled time (no coordinated omission). A mix of list queries: first pages, status,
   procedure, ward, overdue, due-within, accent-insensitive name search, next pages.
   Prints p50, p99 and max. Target: p99 <= 50 ms.

    .venv/bin/python bench/intake.py [--intake 60] [--dossiers 100000] [--rate 100]
                                     [--seconds 30] [--only intake|list] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import gc
import io
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's directory comes first on sys.path and bench/signing.py would
# shadow the `signing` package: drop that entry before importing it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "integration" / "intake"))

from intake_helpers import (  # noqa: E402
    PASSPHRASE,
    dossier_data,
    make_district,
    sign_many,
    store_dossier,
)
from support.serve import serving  # noqa: E402

from api.intake import decisions as rules  # noqa: E402
from api.intake.worker import IntakeWorker  # noqa: E402
from api.register.queries import DossierQuery  # noqa: E402
from dossiers.calendar import default_calendar, local_time  # noqa: E402
from dossiers.catalogue import load_catalogue  # noqa: E402
from dossiers.codes import OfficialCode  # noqa: E402
from dossiers.examples import example_dossier  # noqa: E402
from sync.store import Store  # noqa: E402

CHEAP = {"DOORSTEP_AUTH_ARGON2_MEMORY_KIB": "1024", "DOORSTEP_AUTH_ARGON2_TIME_COST": "1"}
ICT = dt.timezone(dt.timedelta(hours=7))
console = Console()


def _cores() -> str:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{usable} usable cores, 1-min load average {load:.1f} at the start"


# -- 1. intake ----------------------------------------------------------------------------------

def bench_intake(work: Path, count: int, profile: bool) -> None:
    work.mkdir(parents=True)
    district = make_district(work / "pki")
    fields = [dossier_data(n) for n in range(1, count + 1)]
    started = time.perf_counter()
    with console.status(f"signing {count} declarations in a process pool…"):
        pdfs = sign_many(district, fields)
    console.print(f"signed {count} distinct declarations in {time.perf_counter() - started:.1f} s"
                  " (not part of the figures)")
    db = Store(work / "intake-db").create("doorstep")
    for n, (one, pdf) in enumerate(zip(fields, pdfs, strict=True), start=1):
        store_dossier(db, f"dossier:{n:05d}", one, pdf)
    worker = IntakeWorker(db, district.directory, PASSPHRASE)
    walls: list[float] = []
    cpus: list[float] = []
    process = worker.process

    def timed(doc: dict[str, Any]) -> None:  # the same call the feed makes, with a stopwatch
        wall, cpu = time.perf_counter(), time.thread_time()
        process(doc)
        cpus.append(time.thread_time() - cpu)
        walls.append(time.perf_counter() - wall)
        bar.advance(task)

    worker.process = timed  # type: ignore[method-assign]
    profiler = cProfile.Profile() if profile else None
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("intake", total=count)
        if profiler:
            profiler.enable()
        begin = time.perf_counter()
        while worker.run_once():
            pass
        elapsed = time.perf_counter() - begin
        if profiler:
            profiler.disable()
    db.close()
    assert worker.health.processed == count, worker.health  # every dossier received
    cpu_median = statistics.median(cpus)
    console.print(f"[bold]intake[/]: {count} dossiers in {elapsed:.1f} s = "
                  f"{count / elapsed:.1f} dossiers/s (wall, one worker thread); median per "
                  f"dossier {statistics.median(walls) * 1000:.0f} ms wall, "
                  f"{cpu_median * 1000:.0f} ms CPU -> {1 / cpu_median:.1f} dossiers/s per core "
                  f"(target >= 10)")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        console.print(out.getvalue())


# -- 2. the dossier list --------------------------------------------------------------------------

SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
            "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý")
MIDDLE = {"nam": ("Văn", "Hữu", "Đức", "Minh", "Quang", "Xuân"),
          "nu": ("Thị", "Ngọc", "Thu", "Thanh", "Kim", "Bích")}
GIVEN = {"nam": ("An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khánh", "Long", "Nam",
                 "Phúc", "Quý", "Sơn", "Thắng", "Tuấn", "Vinh"),
         "nu": ("Anh", "Chi", "Giang", "Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh", "Mai",
                "Nga", "Nhung", "Thảo", "Trang", "Yến")}
WARDS = ("00004", "00007", "00013", "00016", "00019", "00022")
OFFICERS = tuple(f"o{i}" for i in range(1, 25))


def _templates() -> dict[str, dict[str, Any]]:
    """One complete example dossier per procedure the catalogue can build one for."""
    import msgspec

    catalogue, calendar = load_catalogue(), default_calendar()
    when = dt.datetime(2026, 11, 2, 9, 0, tzinfo=ICT)
    found: dict[str, dict[str, Any]] = {}
    for procedure in catalogue:
        try:
            dossier = example_dossier(catalogue, procedure.code.value, received_at=when,
                                      calendar=calendar)
        except Exception:  # a procedure the examples cannot fill: leave it out of the mix
            continue
        found[procedure.code.value] = msgspec.to_builtins(dossier)
    return found


def _person(rng: random.Random) -> tuple[str, str, str]:
    sex = rng.choice(("nam", "nu"))
    name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE[sex])} {rng.choice(GIVEN[sex])}"
    born = rng.randint(1930, 1965)
    century_sex = (0 if born < 2000 else 2) + (1 if sex == "nu" else 0)
    number = f"{rng.choice(('001', '031', '079', '048'))}{century_sex}{born % 100:02d}" \
             f"{rng.randrange(10**6):06d}"
    return name, number, f"{born}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def dossier_docs(n: int, rng: random.Random, templates: dict[str, dict[str, Any]],
                 today: dt.date) -> list[dict[str, Any]]:
    """Dossier n with its intake outcome and a few events (received, then maybe accepted,
    a supplement request, resolved), as the central database holds them."""
    code = rng.choice(sorted(templates))
    dossier = dict(templates[code])
    officer, ward = rng.choice(OFFICERS), rng.choice(WARDS)
    received = dt.datetime.combine(today - dt.timedelta(days=rng.randint(0, 120)),
                                   dt.time(rng.randint(7, 16), rng.randint(0, 59)), ICT)
    name, number, born = _person(rng)
    dossier_id = f"dossier:TT-DEV{n % 97:02d}-{n:06d}"
    provisional = dossier_id.removeprefix("dossier:")
    dossier.update({
        "_id": dossier_id, "provisional_code": provisional, "officer_id": officer,
        "access": [f"officer:{officer}", f"ward:{ward}"], "received_at": received.isoformat(),
        "applicant": {**dossier["applicant"], "full_name": name, "identity_number": number,
                      "birth_date": born}})
    dossier.pop("official_code", None)
    submission = rules.submission_of(dossier)
    assert isinstance(submission, rules.Submission), submission
    catalogue, calendar = load_catalogue(), default_calendar()
    due = rules.appointment(submission, catalogue, calendar, received)
    assert isinstance(due, dt.date), due
    day = local_time(received).date()
    official = OfficialCode(submission.agency_code, day, n % 9999 + 1)
    outcome = rules.accepted_outcome(submission, official, due, received, received=received)
    docs = [dossier, outcome, rules.receipt_event(submission, received)]
    later = received
    for kind in ("accepted", "supplement_requested", "resolved"):
        if rng.random() < 0.5:
            break
        later += dt.timedelta(hours=rng.randint(2, 60))
        if later.date() > today:
            break
        event = rules.receipt_event(submission, later)
        event.update({"_id": f"event:{dossier_id}:{kind}:1", "id": f"event:{dossier_id}:"
                      f"{kind}:1", "kind": kind, "actor": "canbo1", "role": "handler"})
        if kind == "supplement_requested":
            event["reason"] = "Thiếu bản sao giấy xác nhận khuyết tật."
            event["missing"] = ["Giấy xác nhận khuyết tật"]
        docs.append(event)
    return docs


def prepare_register(data_dir: Path, count: int) -> None:
    """Users, 100k dossiers with their documents, and the register built before serving."""
    from api.services import open_services
    from api.settings import load_settings

    settings = load_settings({"data_dir": data_dir}, env=CHEAP)
    services = open_services(settings, follow=False)  # empty: nothing to catch up yet
    services.auth.create_user("canbo1", "demo", "handler", "Lê Thị Hằng")
    rng, templates = random.Random(2026), _templates()
    today = dt.datetime.now(ICT).date()
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(f"writing {count} dossiers", total=count)
        batch: list[dict[str, Any]] = []
        for n in range(1, count + 1):
            batch += dossier_docs(n, rng, templates, today)
            if len(batch) >= 4000 or n == count:
                services.central.bulk_docs(batch)
                bar.update(task, completed=n)
                batch = []
    services.close()
    started = time.perf_counter()
    with console.status("building the register (read model)…"):
        services = open_services(settings, follow=False)  # catches up the register fully
        rows = services.register.search(DossierQuery(limit=1), services.register.today()).rows
        services.close()
    assert rows, "the register holds no dossier"
    console.print(f"{count} dossiers written; register built in "
                  f"{time.perf_counter() - started:.0f} s (not part of the figures)")


@contextmanager
def server(data_dir: Path) -> Iterator[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")}
    with serving(["--data", str(data_dir)], env={**env, **CHEAP},
                 log=data_dir / "server.log", start_timeout=600, stop_timeout=30) as running:
        yield running.url


def _queries(rng: random.Random, templates: list[str], count: int) -> list[dict[str, Any]]:
    """A handler's mix: first pages, filters, name search, and next pages (marked)."""
    mix: list[dict[str, Any]] = []
    for _ in range(count):
        pick = rng.random()
        if pick < 0.2:
            mix.append({})
        elif pick < 0.35:
            mix.append({"status": rng.choice(["received", "accepted", "supplement_requested"])})
        elif pick < 0.5:
            mix.append({"procedure": rng.choice(templates)})
        elif pick < 0.6:
            mix.append({"ward": rng.choice(WARDS), "officer": rng.choice(OFFICERS)})
        elif pick < 0.7:
            mix.append({"overdue": "true"})
        elif pick < 0.8:
            mix.append({"due_within": str(rng.randint(1, 5))})
        elif pick < 0.9:  # accent-insensitive name search
            mix.append({"q": f"{rng.choice(SURNAMES)} {rng.choice(GIVEN['nu'])}"
                        .replace("ễ", "e").replace("ầ", "a").lower()})
        else:
            mix.append({"next": True})
    return mix


async def open_loop(url: str, bearer: str, rate: float, seconds: float,
                    templates: list[str]) -> tuple[list[float], int, int]:
    """Send on schedule (rate per second) for `seconds`; latency from the scheduled time."""
    rng = random.Random(11)
    plan = _queries(rng, templates, int(rate * seconds))
    latencies: list[float] = []
    errors = 0
    cursors: list[str] = []
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=url, headers={"authorization": f"Bearer {bearer}"},
                                 limits=limits, timeout=30) as client:
        alone = []
        for params in _queries(random.Random(5), templates, 30):  # warm-up, one at a time
            params.pop("next", None)
            began = time.perf_counter()
            (await client.get("/api/dossiers", params={**params, "limit": "50"})
             ).raise_for_status()
            alone.append(time.perf_counter() - began)
        console.print(f"one request at a time (warm-up, not counted): median "
                      f"{statistics.median(alone) * 1000:.1f} ms, max {max(alone) * 1000:.1f} ms")

        async def one(scheduled: float, params: dict[str, Any]) -> None:
            nonlocal errors
            if params.pop("next", False):
                params = {"cursor": cursors[-1]} if cursors else {}
            params.setdefault("limit", "50")
            answer = await client.get("/api/dossiers", params=params)
            latencies.append(time.perf_counter() - scheduled)
            if answer.status_code != 200:
                errors += 1
                return
            cursor = answer.json().get("next_cursor")
            if cursor:
                cursors.append(cursor)

        # The load generator's own full collections paused it for up to 68 ms (measured
        # with gc.callbacks), counted as server latency: no cyclic GC while it sends.
        gc.collect()
        gc.disable()
        start = time.perf_counter() + 0.1
        tasks = []
        try:
            with Progress(console=console, transient=True) as bar:
                task = bar.add_task(f"GET /api/dossiers at {rate:.0f}/s", total=len(plan))
                for i, params in enumerate(plan):
                    scheduled = start + i / rate
                    delay = scheduled - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    tasks.append(asyncio.create_task(one(scheduled, params)))
                    bar.advance(task)
                await asyncio.gather(*tasks)
        finally:
            gc.enable()
        late = sum(1 for t in tasks if t.exception() is not None)
    return latencies, errors, late


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def bench_list(work: Path, count: int, rate: float, seconds: float) -> None:
    data_dir = work / f"list-{count}"
    ready = data_dir / "bench-ready"
    if not ready.exists():  # --work keeps a prepared directory for the next run
        prepare_register(data_dir, count)
        ready.touch()
    with server(data_dir) as url:
        answer = httpx.post(f"{url}/api/auth/token", json={
            "username": "canbo1", "password": "demo", "device_id": "bench-list"}, timeout=60)
        answer.raise_for_status()
        bearer = answer.json()["access_token"]
        total = httpx.get(f"{url}/api/dossiers", params={"limit": "1"},
                          headers={"authorization": f"Bearer {bearer}"}, timeout=60)
        total.raise_for_status()
        latencies, errors, failed = asyncio.run(
            open_loop(url, bearer, rate, seconds, sorted(_templates())))
    ms = [x * 1000 for x in latencies]
    p99 = _percentile(ms, 0.99)
    console.print(f"[bold]GET /api/dossiers[/] with {count} dossiers stored, open loop at "
                  f"{rate:.0f} requests/s for {seconds:.0f} s ({len(ms)} requests, {errors} "
                  f"non-200, {failed} failed): p50 {_percentile(ms, 0.5):.1f} ms, p99 "
                  f"{p99:.1f} ms, max {max(ms):.1f} ms (target p99 <= 50 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--intake", type=int, default=60, help="dossiers taken in (part 1)")
    parser.add_argument("--dossiers", type=int, default=100_000, help="stored dossiers (part 2)")
    parser.add_argument("--rate", type=float, default=100.0, help="list requests per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the load")
    parser.add_argument("--only", choices=("intake", "list"), default=None)
    parser.add_argument("--profile", action="store_true", help="cProfile the intake part")
    parser.add_argument("--work", type=Path, default=None,
                        help="keep data here (and reuse the prepared list data next time)")
    args = parser.parse_args()
    console.print(f"machine: {_cores()}")
    with tempfile.TemporaryDirectory(prefix="doorstep-bench-intake-") as tmp:
        work = args.work or Path(tmp)
        if args.only in (None, "intake"):
            bench_intake(work / f"intake-{time.time_ns()}", args.intake, args.profile)
        if args.only in (None, "list"):
            bench_list(work, args.dossiers, args.rate, args.seconds)


if __name__ == "__main__":
    main()
