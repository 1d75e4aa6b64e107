"""`doorstep intake` SIGKILLed at random points during 500 dossiers: every dossier ends
processed exactly once — one outcome, one official code (distinct sequence numbers, matching
the day's counter), one receipt event at the outcome's receipt time."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from intake_helpers import (
    PASSPHRASE,
    dossier_data,
    make_district,
    sign_many,
    signed_pdf,
    store_dossier,
)

from api.intake.worker import CHECKPOINT_ID
from signing.verify import verify_document
from sync.store import Store

DOORSTEP = str(Path(sys.executable).with_name("doorstep"))
DOSSIERS = 500
MAX_KILLS = 80


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")}
    env["DOORSTEP_PKI_PASSPHRASE"] = PASSPHRASE.decode()
    return env


def _outcomes(data: Path) -> int:
    with Store(data / "db").open("doorstep") as db:
        rows = db.all_docs(startkey="intake:", endkey="intake:\ufff0")["rows"]
        return len(rows)


def _kill_at_random_points(data: Path, rng: random.Random) -> list[int]:
    """Start the worker and SIGKILL it at a random point, until all is done; answer the number
    of outcomes stored after each kill. The points follow the worker's progress, not the
    clock (its start-up time varies tenfold with the machine's load): wait for a random
    number of new outcomes (0 to 25), then a random fraction of a dossier's time, then kill."""
    progress: list[int] = []
    done = 0
    log = data.parent / "worker.log"  # a file, not a pipe: a full pipe would block the worker
    while len(progress) < MAX_KILLS and done < DOSSIERS:
        with log.open("wb") as err:
            worker = subprocess.Popen([DOORSTEP, "intake", "--data", str(data)], env=_env(),
                                      stdout=subprocess.DEVNULL, stderr=err)
        try:
            target = min(DOSSIERS, done + rng.randint(0, 25))
            deadline = time.monotonic() + 300
            while _outcomes(data) < target and worker.poll() is None:
                assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 0.5))  # into the next dossier: any step of it
        finally:  # never leave a worker behind, even when the test fails
            worker.send_signal(signal.SIGKILL)
            worker.wait()
        assert worker.returncode == -signal.SIGKILL, log.read_text(errors="replace")[-3000:]
        done = _outcomes(data)
        progress.append(done)
    return progress


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _check_exactly_once(docs: dict[str, dict[str, Any]], dossier_ids: list[str]) -> None:
    outcomes = {i.removeprefix("intake:"): d for i, d in docs.items() if i.startswith("intake:")}
    assert sorted(outcomes) == sorted(dossier_ids)
    bad = {i: o.get("reasons") for i, o in outcomes.items() if o["status"] != "received"}
    assert not bad, bad
    assert all(o["_rev"].startswith("1-") for o in outcomes.values())
    assert all("declaration-lta.pdf" in o["_attachments"] for o in outcomes.values())
    events = {i: d for i, d in docs.items() if i.startswith("event:")}
    assert sorted(events) == sorted(f"event:{i}:received" for i in dossier_ids)
    for dossier_id, outcome in outcomes.items():
        event = events[f"event:{dossier_id}:received"]
        assert event["_rev"].startswith("1-")
        assert _moment(event["at"]) == _moment(outcome["received_at"])
    # Codes: distinct sequence numbers per day, 1..n without a gap, each the counter's entry.
    counters = {d["day"]: d for i, d in docs.items() if i.startswith("intake-counter:")}
    issued = [dossier for c in counters.values() for dossier in c["issued"]]
    assert Counter(issued) == Counter(dossier_ids)  # every dossier counted exactly once
    by_day: dict[str, list[int]] = defaultdict(list)
    for dossier_id, outcome in outcomes.items():
        agency, day, sequence = outcome["official_code"].rsplit("-", 2)
        counter = next(c for c in counters.values() if c["day"][2:].replace("-", "") == day)
        assert counter["issued"][dossier_id] == int(sequence) and counter["agency"] == agency
        by_day[day].append(int(sequence))
    for sequences in by_day.values():
        assert sorted(sequences) == list(range(1, len(sequences) + 1))


@pytest.mark.slow
@pytest.mark.timeout(1800)  # about 5 min on 2 idle cores: rendering 500 declarations dominates
def test_killed_worker_resumes_with_every_dossier_received_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    district = make_district(data / "pki")
    started = time.monotonic()
    fields = [dossier_data(n) for n in range(1, DOSSIERS + 1)]
    pdfs = sign_many(district, fields)
    assert len(set(pdfs)) == DOSSIERS  # each dossier its own signed declaration
    dossier_ids = [f"dossier:{n:03d}" for n in range(1, DOSSIERS + 1)]
    with Store(data / "db").create("doorstep") as db:
        for dossier_id, one, pdf in zip(dossier_ids, fields, pdfs, strict=True):
            store_dossier(db, dossier_id, one, pdf)
    signed = time.monotonic()
    rng = random.Random(7)
    progress = _kill_at_random_points(data, rng)
    done = subprocess.run([DOORSTEP, "intake", "--data", str(data), "--once"], env=_env(),
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr
    finished = time.monotonic()
    print(f"signing {DOSSIERS}: {signed - started:.1f} s; intake with {len(progress)} kills: "
          f"{finished - signed:.1f} s; outcomes after each kill: {progress}")
    interrupted = [p for p in progress if 0 < p < DOSSIERS]
    assert len(interrupted) >= 5, f"too few kills in the middle of the work: {progress}"
    with Store(data / "db").open("doorstep") as db:
        docs = {row["id"]: row["doc"] for row in db.all_docs(include_docs=True)["rows"]}
        assert db.get_local(CHECKPOINT_ID)["last_seq"] == db.info()["update_seq"]
        sample = random.Random(3).sample(dossier_ids, 3)
        ltas = [db.attachment(f"intake:{i}", "declaration-lta.pdf").read() for i in sample]
    _check_exactly_once(docs, dossier_ids)
    trust = district.district.trust()
    for lta in ltas:
        report = verify_document(bytes(lta), trust)
        assert report.ok and report.level == "PAdES-B-LTA", report.all_problems()


def test_intake_once_reports_a_failure_without_a_traceback(tmp_path: Path) -> None:
    data = tmp_path / "data"
    district = make_district(data / "pki")
    with Store(data / "db").create("doorstep") as db:
        fields = dossier_data(1)
        store_dossier(db, "dossier:001", fields, signed_pdf(district, fields, district.signer()))
    env = {**_env(), "DOORSTEP_PKI_PASSPHRASE": "not the passphrase"}
    done = subprocess.run([DOORSTEP, "intake", "--data", str(data), "--once"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0
    assert "intake stopped at change 0" in done.stderr and "Traceback" not in done.stderr
    assert _outcomes(data) == 0
