"""Benchmark of the replicator against PouchDB, both talking to one PouchDB Server.

Two workloads: 10,000 documents of about 1 KB, and 200 documents carrying three 200 KB
attachments each. For each, in one run against one server:
  * ours: pull the source database into the embedded store, then push the store into a new
    server database (sync.replicator, default options, --batch documents per batch);
  * PouchDB 9 under Node (tests/js/pouch_replicate.js): pull into its memory adapter, then
    push into another new database, same batch size.
Each workload runs in --rounds rounds, alternating which replicator goes first, and each
replicator starts only once the server is idle again (PouchDB Server's LevelDB compacts in
the background for a second or more after a large write, and that would slow whoever came
next). It prints docs/s for each step of each round, then the medians and the ratio ours /
PouchDB of the medians (target: ≥ 1.5 on pull and push). Every replica is checked to hold
every document before a figure is printed. For the attachment workload it also prints what
the server alone sustains each way (every document handed out with its attachment bodies as
our pull asks for them, nothing stored; every document taken in as our push sends it, the
bodies encoded beforehand): no replicator can go faster than that, so the ceiling over
PouchDB's rate bounds the ratio.

    .venv/bin/python bench/replicate.py [--docs 10000] [--att-docs 200] [--batch 500]
                                        [--rounds 3]

COUCHDB_URL points it at a running server instead of starting PouchDB Server.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from rich.console import Console
from rich.table import Table

from sync.peers import HttpPeer, LocalPeer
from sync.protocol.session import APART_BYTES, IN_FLIGHT_BYTES
from sync.replicator import ReplicationOptions, replicate

ROOT = Path(__file__).resolve().parents[1]
JS = ROOT / "tests" / "js"
SERVER = JS / "node_modules" / ".bin" / "pouchdb-server"
ATT_BYTES, ATTS_PER_DOC = 200 * 1024, 3  # each attachment document's photos
WARDS = ["Phường Bến Nghé", "Xã Tân Lập", "Phường Hàng Bạc", "Xã Ea Kao", "Thị trấn Phong Điền"]


def start_server(workdir: Path) -> tuple[str, subprocess.Popen[bytes] | None]:
    external = os.environ.get("COUCHDB_URL")
    if external:
        return external.rstrip("/"), None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = (workdir / "server.log").open("wb")
    process = subprocess.Popen([str(SERVER), "--port", str(port), "--dir", str(workdir / "data")],
                               cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return url, process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("PouchDB Server did not start")


def new_db(server: str, prefix: str) -> str:
    url = f"{server}/{prefix}-{uuid.uuid4().hex[:8]}"
    httpx.put(url, timeout=30).raise_for_status()
    return url


def small_doc(i: int, rng: random.Random) -> dict[str, Any]:
    return {"_id": f"dossier-{i:06}", "type": "dossier", "ward": rng.choice(WARDS),
            "applicant": {"name": f"Nguyễn Văn {i}", "phone": f"09{rng.randint(10**7, 10**8)}"},
            "notes": "Hồ sơ tiếp nhận tại nhà. " * 30, "seq": i}


def att_doc(i: int) -> dict[str, Any]:
    atts = {f"photo{k}.jpg": {"content_type": "image/jpeg",
                              "data": base64.b64encode(os.urandom(ATT_BYTES)).decode()}
            for k in range(ATTS_PER_DOC)}
    return {"_id": f"photos-{i:04}", "type": "evidence", "_attachments": atts}


def seed(url: str, docs: list[dict[str, Any]]) -> None:
    for start in range(0, len(docs), 50):
        response = httpx.post(f"{url}/_bulk_docs", json={"docs": docs[start:start + 50]},
                              timeout=300)
        response.raise_for_status()


def doc_count(url: str) -> int:
    return int(httpx.get(url, timeout=60).json()["doc_count"])


def ours(source: str, server: str, n: int, batch: int, tmp: Path) -> tuple[float, float]:
    local = LocalPeer(tmp / f"store-{uuid.uuid4().hex[:6]}" / "device")
    options = ReplicationOptions(batch_size=batch, create_target=True)
    started = time.perf_counter()
    pulled = replicate(HttpPeer(source), local, options)
    pull_s = time.perf_counter() - started
    target = new_db(server, "ours-push")
    started = time.perf_counter()
    pushed = replicate(local, HttpPeer(target), ReplicationOptions(batch_size=batch))
    push_s = time.perf_counter() - started
    if not (pulled.docs_written == pushed.docs_written == n == doc_count(target)):
        raise SystemExit(f"ours: incomplete replication {pulled} {pushed}")
    local.close()
    return n / pull_s, n / push_s


def pouchdb(source: str, server: str, n: int, batch: int) -> tuple[float, float]:
    target = new_db(server, "pouch-push")
    out = subprocess.run(["node", str(JS / "pouch_replicate.js"), "bench", source, target,
                          str(batch)], capture_output=True, text=True, cwd=JS, check=True)
    result = json.loads(out.stdout)
    if not (result["pull"]["docs_written"] == result["push"]["docs_written"] == n
            == doc_count(target)):
        raise SystemExit(f"PouchDB: incomplete replication {result}")
    return n * 1000 / result["pull"]["ms"], n * 1000 / result["push"]["ms"]


def settle(process: subprocess.Popen[bytes] | None, seconds: float = 20.0) -> None:
    """Flush every earlier step's writes to disk, then wait (at most `seconds`) until the
    server uses under 5% of a core; an external server is given a second. Without the
    flush, the kernel writes a step's data back up to 30 s later (`vm.dirty_expire_centisecs`
    here), on the CPU of whichever step runs then: ours writes 240 MB for an attachment
    pull, PouchDB's memory adapter nothing."""
    os.sync()
    if process is None:
        time.sleep(1.0)
        return
    tick = os.sysconf("SC_CLK_TCK")

    def cpu() -> float:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick  # utime + stime

    deadline = time.monotonic() + seconds
    before = cpu()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = cpu()
        if now - before < 0.0125:
            return
        before = now


def _server_rate(url: str, requests: list[tuple[str, str, bytes]], n: int,
                 workers: int) -> float:
    """docs/s at which the server answers `requests` ((method, path under url, JSON body)),
    `workers` at a time, each on its own kept-alive `http.client` connection (httpx would
    spend more CPU than the server on megabytes of answer)."""
    parts = urlsplit(url)
    local = threading.local()

    def send(request: tuple[str, str, bytes]) -> None:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection(parts.hostname or "", parts.port)
        method, path, body = request
        local.conn.request(method, f"{parts.path}/{path}", body=body,
                           headers={"Content-Type": "application/json"})
        answer = local.conn.getresponse()
        answer.read()
        if answer.status not in (200, 201):
            raise SystemExit(f"{method} {path} answered HTTP {answer.status}")

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(send, requests))
    return n / (time.perf_counter() - started)


def server_read_ceiling(source: str, docs: list[dict[str, Any]]) -> float:
    """What the server alone sustains on the side of a pull: every document with its
    attachment bodies, `_bulk_get?attachments=true`, as many at a time and as many requests
    at once as our pull asks (groups of `APART_BYTES`, `IN_FLIGHT_BYTES` held), nothing
    stored."""
    per_doc = ATT_BYTES * ATTS_PER_DOC
    per_request = max(1, APART_BYTES // per_doc)
    at_once = max(1, IN_FLIGHT_BYTES // (per_request * per_doc))
    requests = [("POST", "_bulk_get?attachments=true",
                 json.dumps({"docs": [{"id": d["_id"]} for d in docs[i:i + per_request]]}
                            ).encode())
                for i in range(0, len(docs), per_request)]
    return _server_rate(source, requests, len(docs), at_once)


def server_write_ceiling(server: str, docs: list[dict[str, Any]]) -> float:
    """What the server alone sustains on the side of a push: the documents as new
    revisions, `_bulk_docs` with `new_edits: false` for 25 at a time, 3 requests at once,
    every body encoded beforehand. (Our push sent 10, 20, then 30 at a time, at most 3 at once;
    PouchDB Server took 5, 10, 25 or 50 per request at the same 171-176 docs/s.)"""
    target = new_db(server, "ceiling")
    revised = [{**d, "_rev": f"1-{uuid.uuid4().hex}"} for d in docs]
    requests = [("POST", "_bulk_docs",
                 json.dumps({"docs": revised[i:i + 25], "new_edits": False}).encode())
                for i in range(0, len(revised), 25)]
    rate = _server_rate(target, requests, len(docs), 3)
    if doc_count(target) != len(docs):
        raise SystemExit("ceiling: the server did not store every document")
    return rate


def print_ceilings(console: Console, process: subprocess.Popen[bytes] | None, server: str,
                   source: str, docs: list[dict[str, Any]],
                   medians: dict[str, dict[str, float]]) -> None:
    """What the server alone sustains each way, and how close each replicator came (the
    ratio ours / PouchDB can be no better than the server's ceiling / PouchDB)."""
    for step, measure in (("pull", lambda: server_read_ceiling(source, docs)),
                          ("push", lambda: server_write_ceiling(server, docs))):
        settle(process)
        ceiling = measure()
        ours, theirs = medians["ours"][step], medians["PouchDB"][step]
        console.print(f"  server alone, {step} side (nothing on the other side): "
                      f"{ceiling:,.0f} docs/s; ours {ours / ceiling:.0%} of it, PouchDB "
                      f"{theirs / ceiling:.0%}; best possible ratio {ceiling / theirs:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--att-docs", type=int, default=200)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    console = Console()
    tmp = Path(tempfile.mkdtemp(prefix="bench-replicate-"))
    server, process = start_server(tmp)
    table = Table(title=f"Replication against PouchDB Server (batch {args.batch})")
    for column in ("workload", "step", "ours docs/s", "PouchDB docs/s", "ours / PouchDB"):
        table.add_column(column, justify="right" if "docs" in column or "/" in column else "left")
    try:
        rng = random.Random(1)
        workloads = [
            (f"{args.docs} × 1 KB", [small_doc(i, rng) for i in range(args.docs)]),
            (f"{args.att_docs} × {ATTS_PER_DOC} × {ATT_BYTES // 1024} KB att.",
             [att_doc(i) for i in range(args.att_docs)]),
        ]
        for name, docs in workloads:
            source = new_db(server, "source")
            seed(source, docs)
            n = len(docs)
            console.print(f"[bold]{name}[/bold]: seeded {n} documents")
            runs: dict[str, list[tuple[float, float]]] = {"ours": [], "PouchDB": []}
            for round_no in range(args.rounds):
                order = ["PouchDB", "ours"] if round_no % 2 == 0 else ["ours", "PouchDB"]
                for who in order:
                    settle(process)
                    runs[who].append(pouchdb(source, server, n, args.batch) if who == "PouchDB"
                                     else ours(source, server, n, args.batch, tmp))
                (o_pull, o_push), (p_pull, p_push) = runs["ours"][-1], runs["PouchDB"][-1]
                console.print(f"  round {round_no + 1} ({' then '.join(order)}): "
                              f"pull {o_pull:,.0f} vs {p_pull:,.0f} docs/s "
                              f"({o_pull / p_pull:.2f}), push {o_push:,.0f} vs {p_push:,.0f} "
                              f"({o_push / p_push:.2f})")
            medians = {who: {step: statistics.median(run[index] for run in rates)
                             for index, step in enumerate(("pull", "push"))}
                       for who, rates in runs.items()}
            for step in ("pull", "push"):
                o, p = medians["ours"][step], medians["PouchDB"][step]
                table.add_row(name, step, f"{o:,.0f}", f"{p:,.0f}", f"{o / p:.2f}×")
                console.print(f"  {step}, median of {args.rounds}: ours {o:,.0f} docs/s, "
                              f"PouchDB {p:,.0f} docs/s, ratio {o / p:.2f}")
            if any("_attachments" in doc for doc in docs):
                print_ceilings(console, process, server, source, docs, medians)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    console.print(table)


if __name__ == "__main__":
    main()
