"""/health and /metrics show intake's backlog, its oldest unprocessed change and last error
while the worker cannot make progress (here: the TSA key cannot be opened)."""

from __future__ import annotations

import time
from pathlib import Path

from intake_helpers import dossier_data, make_district, signed_pdf, store_dossier
from litestar.testing import TestClient

from api.app import create_app
from api.services import open_services
from api.settings import load_settings


def _gauge(metrics: str, name: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def test_a_stuck_worker_shows_its_oldest_change_growing_older(tmp_path: Path) -> None:
    district = make_district(tmp_path / "pki")
    services = open_services(load_settings({"data_dir": tmp_path}, env={}))
    try:
        services.pki_passphrase = b"not the passphrase"
        data = dossier_data(1)
        store_dossier(services.central, "dossier:1", data,
                      signed_pdf(district, data, district.signer()))
        seq = services.central.changes(since=0)["results"][-1]["seq"]
        assert services.start_intake()
        deadline = time.monotonic() + 30
        while services.intake.health.errors < 1:
            assert time.monotonic() < deadline, services.intake.health
            time.sleep(0.05)
        with TestClient(create_app(services.settings, services=services)) as client:
            first = client.get("/health").json()["workers"]["intake"]
            time.sleep(0.5)
            second = client.get("/health").json()["workers"]["intake"]
            metrics = client.get("/metrics").text
    finally:
        services.close()
    assert first["running"] is True and first["backlog"] >= 1
    assert first["oldest_pending_seq"] == second["oldest_pending_seq"] == seq
    assert second["oldest_pending_age_seconds"] >= first["oldest_pending_age_seconds"] + 0.4
    assert second["checkpoint_seq"] == 0 and second["processed"] == 0
    assert "dossier:1" in second["last_error"] and second["last_error_at"]
    assert second["errors"] >= 1
    assert _gauge(metrics, 'doorstep_worker_backlog{worker="intake"}') >= 1
    assert _gauge(metrics, "doorstep_intake_oldest_pending_seq") == seq
    assert _gauge(metrics, "doorstep_intake_oldest_pending_seconds") >= 0.5
    assert _gauge(metrics, "doorstep_intake_last_error_timestamp") > 0
    assert _gauge(metrics, "doorstep_intake_errors") >= 1
    assert _gauge(metrics, "doorstep_intake_checkpoint_seq") == 0


def test_health_says_when_no_intake_worker_runs(tmp_path: Path) -> None:
    services = open_services(load_settings({"data_dir": tmp_path}, env={}))
    try:
        assert not services.start_intake()  # no district PKI in the data directory
        with TestClient(create_app(services.settings, services=services)) as client:
            report = client.get("/health").json()["workers"]["intake"]
    finally:
        services.close()
    assert report["running"] is False and "PKI" in report["reason"]
