"""Benchmark of the sync gateway; prints its figures in one run.

1. PouchDB pulling 10,000 documents through the gateway (embedded store) vs. directly from
   PouchDB Server (docs/s and ratio; target >= 1.0).
2. An officer's incremental sync of 10 new documents (our replicator over HTTP) when the
   central database holds 1,000 vs. 100,000 other officers' documents (time ratio; <= 1.3).
3. 200 concurrent simulated devices, each pushing 5 dossiers with three 200 KB attachments
   and pulling 10 documents (success rate, p50 and p95 session time).

Every server is a real `doorstep serve` process on a free port. Users are created with
cheap argon2 parameters (the login cost is not what is measured here).

    .venv/bin/python bench/gateway.py [--docs 10000] [--devices 200] [--quick]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "integration" / "gateway"))

from gateway_helpers import dossier_doc  # noqa: E402
from support.pouchdb_server import start_pouchdb_server, stop_pouchdb_server  # noqa: E402
from support.serve import serving  # noqa: E402

from api.services import open_services  # noqa: E402
from api.settings import load_settings  # noqa: E402
from sync.peers import HttpPeer, LocalPeer  # noqa: E402
from sync.replicator import replicate  # noqa: E402
from sync.store import Store  # noqa: E402

CHEAP = {"DOORSTEP_AUTH_ARGON2_MEMORY_KIB": "1024", "DOORSTEP_AUTH_ARGON2_TIME_COST": "1"}
PULL_JS = ROOT / "tests" / "js" / "gateway_bench_pull.js"


def visit(i: int, officer: str) -> dict[str, Any]:
    return {"_id": f"visit:{officer}-{i:06d}", "type": "visit", "schema": 1,
            "access": [f"officer:{officer}", "ward:00004"], "id": f"{officer}-{i}",
            "officer_id": officer, "planned_date": "2026-12-01", "procedures": ["1.001776"],
            "priority_group": "nguoi_cao_tuoi",
            "citizen": {"full_name": "Nguyễn Văn An", "identity_number": "001045012345",
                        "birth_date": "1945-03-12", "sex": "nam",
                        "address": {"detail": f"Số {i} ngõ 5 phố Đội Cấn",
                                    "commune_code": "00004", "province_code": "01"}}}


def prepare(data_dir: Path, officers: list[str], docs: list[dict[str, Any]]) -> None:
    """Users and central documents, written before the server starts."""
    settings = load_settings({"data_dir": data_dir}, env=CHEAP)
    services = open_services(settings, follow=False)
    for name in officers:
        if services.auth.user(name) is None:
            services.auth.create_user(name, "demo", "officer", name)
    for start in range(0, len(docs), 2000):
        services.central.bulk_docs(docs[start:start + 2000])
    services.close()


@contextmanager
def server(data_dir: Path) -> Iterator[str]:
    with serving(["--data", str(data_dir)], env={**os.environ, **CHEAP},
                 log=data_dir.parent / f"server-{data_dir.name}.log",
                 start_timeout=300, stop_timeout=30) as running:
        yield running.url


def token(url: str, user: str, device: str, client: httpx.Client | None = None) -> str:
    answer = (client or httpx).post(f"{url}/api/auth/token", json={
        "username": user, "password": "demo", "device_id": device}, timeout=60)
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def pouch_pull(url: str, bearer: str | None) -> dict[str, Any]:
    args = ["node", str(PULL_JS), url, bearer or "", "100"]
    run = subprocess.run(args, capture_output=True, text=True, timeout=1800, check=False)
    if run.returncode != 0:
        raise RuntimeError(run.stderr)
    result: dict[str, Any] = json.loads(run.stdout)
    return result


# -- 1 -------------------------------------------------------------------------------------

def bench_pull(work: Path, count: int) -> None:
    docs = [visit(i, "officer1") for i in range(count)]
    prepare(work / "pull", ["officer1"], docs)
    couch = start_pouchdb_server(private=True)
    try:
        target = couch.create_db("bench")
        stored = Store(work / "pull" / "db").open("doorstep")
        rows = stored.all_docs(include_docs=True)["rows"]
        for start in range(0, len(rows), 1000):
            batch = [r["doc"] for r in rows[start:start + 1000]]
            httpx.post(f"{target}/_bulk_docs", json={"docs": batch, "new_edits": False},
                       timeout=300).raise_for_status()
        # Alternate the two sides, three runs each, and keep each side's median run, so a
        # load change on the (shared) machine falls on both alike.
        directs, vias = [], []
        with server(work / "pull") as url:
            bearer = token(url, "officer1", "bench-pull")
            for _ in range(3):
                directs.append(pouch_pull(target, None))
                vias.append(pouch_pull(f"{url}/sync/officer1", bearer))
        direct = sorted(directs, key=lambda r: r["ms"])[1]
        via = sorted(vias, key=lambda r: r["ms"])[1]
    finally:
        stop_pouchdb_server(couch)
    rate_direct = direct["docs_written"] / (direct["ms"] / 1000)
    rate_gateway = via["docs_written"] / (via["ms"] / 1000)
    print(f"1. PouchDB pull of {count} docs (median of 3 alternating runs): gateway "
          f"{via['docs_written']} docs in {via['ms'] / 1000:.2f} s = {rate_gateway:.0f} docs/s; "
          f"PouchDB Server directly "
          f"{direct['docs_written']} docs in {direct['ms'] / 1000:.2f} s = {rate_direct:.0f} "
          f"docs/s; ratio {rate_gateway / rate_direct:.2f} (target >= 1.0)", flush=True)


# -- 2 -------------------------------------------------------------------------------------

@contextmanager
def incremental_setup(work: Path, others: int) -> Iterator[tuple[str, str, Any, LocalPeer]]:
    """A server whose central database holds 100 of officer1's documents and `others`
    of other officers', and a device that has already pulled officer1's share."""
    data = work / f"incr-{others}"
    docs = [visit(i, "officer1") for i in range(100)]
    docs += [visit(i, f"other{i % 500}") for i in range(others)]
    prepare(data, ["officer1"], docs)
    device = Store(work / f"device-{others}").open("officer1", create=True)
    local = LocalPeer.of(device, "device")
    with server(data) as url:
        bearer = token(url, "officer1", "incr")
        replicate(HttpPeer(f"{url}/sync/officer1", bearer=bearer), local)
        yield url, bearer, Store(data / "db").open("doorstep"), local


def incremental_round(setup: tuple[str, str, Any, LocalPeer], n: int) -> float:
    url, bearer, central, local = setup
    new = [visit(1000 + n * 10 + i, "officer1") for i in range(10)]
    central.bulk_docs(new)
    wait_indexed(url, bearer, new[-1]["_id"])
    remote = HttpPeer(f"{url}/sync/officer1", bearer=bearer)
    started = time.perf_counter()
    summary = replicate(remote, local)
    elapsed = time.perf_counter() - started
    assert summary.docs_written == 10, summary
    return elapsed


def wait_indexed(url: str, bearer: str, doc_id: str) -> None:
    """Wait until the server's index has seen a write made by another process."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = httpx.get(f"{url}/sync/officer1/{doc_id}",
                           headers={"Authorization": f"Bearer {bearer}"})
        if answer.status_code == 200:
            return
        time.sleep(0.05)
    raise RuntimeError(f"{doc_id} never reached the officer's feed")


def bench_incremental(work: Path, small: int, large: int, rounds: int) -> None:
    # Both servers run side by side and the rounds alternate, so a load change on the
    # (shared) machine falls on both sides alike.
    with incremental_setup(work, small) as few, incremental_setup(work, large) as many:
        fast, slow = [], []
        for n in range(rounds):
            fast.append(incremental_round(few, n))
            slow.append(incremental_round(many, n))
    f, s = statistics.median(fast), statistics.median(slow)
    print(f"2. Incremental sync of 10 new docs (median of {rounds}): {f * 1000:.0f} ms with "
          f"{small} other officers' docs, {s * 1000:.0f} ms with {large}; ratio "
          f"{s / f:.2f} (target <= 1.3)", flush=True)


# -- 3 -------------------------------------------------------------------------------------

def session(url: str, n: int, photos: list[str]) -> tuple[bool, float, str]:
    user = f"dev{n:03d}"
    started = time.perf_counter()
    try:
        with httpx.Client(timeout=300) as client:
            headers = {"Authorization": f"Bearer {token(url, user, f'd{n}', client)}"}
            base = f"{url}/sync/{user}"
            client.get(base, headers=headers).raise_for_status()
            for k in range(5):
                doc = dossier_doc(user, k + 1)
                doc["_rev"] = f"1-{n:016x}{k:016x}"
                doc["_attachments"] = {f"p{i}.jpg": {"content_type": "image/jpeg", "data": p}
                                       for i, p in enumerate(photos)}
                answer = client.post(f"{base}/_bulk_docs", headers=headers,
                                     json={"docs": [doc], "new_edits": False})
                answer.raise_for_status()
                if answer.json():
                    return False, 0.0, json.dumps(answer.json())[:200]
            feed = client.get(f"{base}/_changes", params={"limit": 10}, headers=headers)
            rows = [r for r in feed.json()["results"] if r["id"].startswith("visit:")][:10]
            got = client.post(f"{base}/_bulk_get", headers=headers, params={"revs": "true"},
                              json={"docs": [{"id": r["id"]} for r in rows]})
            got.raise_for_status()
            ok = sum(1 for r in got.json()["results"] if "ok" in r["docs"][0])
            if ok != 10:
                return False, 0.0, f"pulled {ok} of 10"
    except Exception as exc:
        return False, 0.0, f"{type(exc).__name__}: {exc}"
    return True, time.perf_counter() - started, ""


def bench_devices(work: Path, devices: int) -> None:
    users = [f"dev{n:03d}" for n in range(devices)]
    docs = [visit(i, u) for u in users for i in range(10)]
    prepare(work / "devices", users, docs)
    photos = [base64.b64encode(os.urandom(200 * 1024)).decode() for _ in range(3)]
    with server(work / "devices") as url, ThreadPoolExecutor(devices) as pool:
        started = time.perf_counter()
        results = list(pool.map(lambda n: session(url, n, photos), range(devices)))
        wall = time.perf_counter() - started
    times = sorted(t for ok, t, _ in results if ok)
    ok = len(times)
    failures = [why for good, _, why in results if not good]
    p50 = statistics.median(times) if times else float("nan")
    p95 = times[int(0.95 * (len(times) - 1))] if times else float("nan")
    print(f"3. {devices} concurrent devices (5 dossiers x 3 x 200 KB up, 10 docs down): "
          f"success {100 * ok / devices:.1f} %, p50 {p50:.2f} s, p95 {p95:.2f} s, "
          f"wall {wall:.1f} s", flush=True)
    if failures:
        print(f"   first failure: {failures[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--only", choices=["pull", "incremental", "devices"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as tmp:
        work = Path(tmp)
        if args.only in (None, "pull"):
            bench_pull(work, args.docs)
        if args.only in (None, "incremental"):
            bench_incremental(work, args.small, args.large, args.rounds)
        if args.only in (None, "devices"):
            bench_devices(work, args.devices)


if __name__ == "__main__":
    main()
