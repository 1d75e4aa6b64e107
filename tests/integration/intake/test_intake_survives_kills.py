"""`doorstep intake` SIGKILLed at random points resumes with every dossier received once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from intake_helpers import PASSPHRASE, dossier_data, make_district, signed_pdf, store_dossier

from api.intake.worker import CHECKPOINT_ID
from sync.store import Store

DOORSTEP = str(Path(sys.executable).with_name("doorstep"))
DOSSIERS = 30
KILLS = 10


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")}
    env["DOORSTEP_PKI_PASSPHRASE"] = PASSPHRASE.decode()
    return env


def _outcomes(data: Path) -> int:
    with Store(data / "db").open("doorstep") as db:
        rows = db.all_docs(startkey="intake:", endkey="intake:\ufff0")["rows"]
        return len(rows)


def test_killed_worker_resumes_with_every_dossier_received_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    district = make_district(data / "pki")
    signer = district.signer()
    with Store(data / "db").create("doorstep") as db:
        for n in range(1, DOSSIERS + 1):
            fields = dossier_data(n)
            store_dossier(db, f"dossier:{n:03d}", fields, signed_pdf(district, fields, signer))
    rng = random.Random(7)
    progress = []
    started = time.monotonic()
    for _ in range(KILLS):
        worker = subprocess.Popen([DOORSTEP, "intake", "--data", str(data)], env=_env(),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(1.5, 3.5))
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        assert worker.returncode == -signal.SIGKILL, worker.stderr.read() if worker.stderr else ""
        progress.append(_outcomes(data))
    done = subprocess.run([DOORSTEP, "intake", "--data", str(data), "--once"], env=_env(),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    elapsed = time.monotonic() - started
    print(f"outcomes after each kill: {progress}; total {elapsed:.1f} s")
    assert progress[0] < DOSSIERS, "the first kill came after all the work: no crash tested"
    with Store(data / "db").open("doorstep") as db:
        rows = db.all_docs(include_docs=True)["rows"]
        docs = {row["id"]: row["doc"] for row in rows}
        assert db.get_local(CHECKPOINT_ID)["last_seq"] > 0
    outcomes = [d for i, d in docs.items() if i.startswith("intake:")]
    assert len(outcomes) == DOSSIERS
    assert all(o["status"] == "received" and o["_rev"].startswith("1-") for o in outcomes)
    codes = sorted(o["official_code"][-4:] for o in outcomes)
    assert codes == [f"{n:04d}" for n in range(1, DOSSIERS + 1)]  # each number once, none lost
    events = [d for i, d in docs.items() if i.startswith("event:")]
    assert len(events) == DOSSIERS and all(e["_rev"].startswith("1-") for e in events)
    counters = [d for i, d in docs.items() if i.startswith("intake-counter:")]
    assert sum(len(c["issued"]) for c in counters) == DOSSIERS


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
