"""The intake worker on the embedded store with a real district PKI, signatures and TSA."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest
from intake_helpers import (
    PASSPHRASE,
    District,
    dossier_data,
    make_district,
    signed_pdf,
    store_dossier,
)

from api.intake import decisions as rules
from api.intake.worker import CHECKPOINT_ID, IntakeWorker
from dossiers.calendar import default_calendar
from dossiers.catalogue import load_catalogue
from dossiers.deadlines import DeadlinePolicy
from dossiers.models import Event
from dossiers.workflow import fold
from signing.verify import MESSAGES, Problem, verify_document
from sync.store import Store


@pytest.fixture()
def district(tmp_path: Path) -> District:
    return make_district(tmp_path / "pki")


@pytest.fixture()
def central(tmp_path: Path) -> Any:
    db = Store(tmp_path / "db").create("doorstep")
    yield db
    db.close()


def _drain(worker: IntakeWorker) -> None:
    while worker.run_once():
        pass


def test_a_good_dossier_is_received_with_code_date_event_and_lta(
        district: District, central: Any) -> None:
    data = dossier_data(1)
    store_dossier(central, "dossier:1", data, signed_pdf(district, data, district.signer()))
    worker = IntakeWorker(central, district.directory, PASSPHRASE)
    _drain(worker)
    outcome = central.get("intake:dossier:1")
    assert outcome["status"] == "received", outcome.get("reasons")
    day = dt.datetime.fromisoformat(data["received_at"]).astimezone(
        dt.timezone(dt.timedelta(hours=7)))
    assert outcome["official_code"] == f"000.00.01.H22-{day:%y%m%d}-0001"
    assert dt.date.fromisoformat(outcome["appointment_date"]) > day.date()
    assert outcome["queue"] == "queue:procedure:1.000419"
    event = central.get("event:dossier:1:received")
    decoded = msgspec.convert({k: v for k, v in event.items() if not k.startswith("_")},
                              type=Event)
    assert decoded.kind == "received" and decoded.dossier == "TT-DEV01-000001"
    lta = central.attachment("intake:dossier:1", "declaration-lta.pdf").read()
    report = verify_document(lta, district.district.trust())
    assert report.ok, report.all_problems()
    assert report.level == "PAdES-B-LTA"
    assert worker.health.processed == 1 and worker.health.last_error is None
    assert worker.health.checkpoint_seq == central.get_local(CHECKPOINT_ID)["last_seq"]
    # The receipt event is at the device's claimed time, so the workflow's own due date (what
    # the register shows) is the outcome's appointment date.
    assert decoded.at == dt.datetime.fromisoformat(data["received_at"])
    assert outcome["received_at"] == outcome["claimed_received_at"] == data["received_at"]
    policy = DeadlinePolicy(default_calendar(), load_catalogue().get(data["procedure_code"])
                            .versions[0].time_limit.for_form({}))
    state = fold([decoded], policy)
    assert state.due_date == dt.date.fromisoformat(outcome["appointment_date"])
    signatures = outcome["signatures"]
    assert signatures["ok"] is True and signatures["level"] == "PAdES-B-B"
    assert signatures["modification"] in {"NONE", "FORM_FILLING"}
    drawn, device = signatures["items"]
    assert drawn["kind"] == "citizen_drawn" and device["kind"] == "device"
    assert device["signer"] and device["certificate_serial"] == format(
        district.device.certificate.serial_number, "X")
    assert device["valid"] and device["trusted"] and device["revocation_checked"]
    assert dt.datetime.fromisoformat(device["claimed_time"]) <= dt.datetime.now(dt.UTC)


def test_a_device_clock_ahead_never_puts_the_receipt_after_the_intake(
        district: District, central: Any) -> None:
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    data = dossier_data(11, received_at=ahead)
    store_dossier(central, "dossier:11", data, signed_pdf(district, data, district.signer()))
    worker = IntakeWorker(central, district.directory, PASSPHRASE)
    before = dt.datetime.now(dt.UTC)
    _drain(worker)
    outcome = central.get("intake:dossier:11")
    assert outcome["status"] == "received", outcome.get("reasons")
    event = central.get("event:dossier:11:received")
    at = dt.datetime.fromisoformat(event["at"])
    assert before <= at <= dt.datetime.now(dt.UTC)
    assert outcome["received_at"] == at.isoformat()
    assert outcome["claimed_received_at"] == ahead.isoformat()
    local_day = at.astimezone(dt.timezone(dt.timedelta(hours=7))).date()
    assert outcome["official_code"].split("-")[1] == f"{local_day:%y%m%d}"
    assert outcome["appointment_date"] == default_calendar().due_date(
        at, load_catalogue().get(data["procedure_code"]).versions[0].time_limit.for_form({}),
    ).isoformat()


def test_a_retry_keeps_the_receipt_time_of_the_first_attempt(
        district: District, central: Any) -> None:
    data = dossier_data(12)
    store_dossier(central, "dossier:12", data, signed_pdf(district, data, district.signer()))
    first_time = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    # An earlier attempt wrote the receipt event (its clock then) and died before the outcome.
    submission = rules.submission_of(central.get("dossier:12"))
    assert isinstance(submission, rules.Submission)
    central.put(rules.receipt_event(submission, first_time))
    _drain(IntakeWorker(central, district.directory, PASSPHRASE))
    outcome = central.get("intake:dossier:12")
    assert dt.datetime.fromisoformat(outcome["received_at"]) == first_time
    assert outcome["appointment_date"] == default_calendar().due_date(
        first_time,
        load_catalogue().get(data["procedure_code"]).versions[0].time_limit.for_form({}),
    ).isoformat()


def test_a_device_revoked_while_the_worker_runs_is_refused_from_then_on(
        district: District, central: Any) -> None:
    worker = IntakeWorker(central, district.directory, PASSPHRASE)
    first, second = dossier_data(13), dossier_data(14)
    store_dossier(central, "dossier:13", first, signed_pdf(district, first, district.signer()))
    _drain(worker)
    assert central.get("intake:dossier:13")["status"] == "received"
    pdf = signed_pdf(district, second, district.signer())
    district.district.revoke(PASSPHRASE, district.device.certificate.serial_number,
                             "keyCompromise",
                             at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    store_dossier(central, "dossier:14", second, pdf)
    _drain(worker)  # the same worker: it must see the new CRL
    outcome = central.get("intake:dossier:14")
    assert outcome["status"] == "needs_attention"
    assert MESSAGES[Problem.REVOKED] in outcome["reasons"]
    device = outcome["signatures"]["items"][-1]
    assert device["kind"] == "device" and device["revocation_checked"] is True
    assert device["trusted"] is False and MESSAGES[Problem.REVOKED] in device["problems"]


def test_a_tampered_pdf_needs_attention_with_vietnamese_reasons(
        district: District, central: Any) -> None:
    data = dossier_data(2)
    pdf = signed_pdf(district, data, district.signer())
    tampered = bytearray(pdf)
    tampered[pdf.index(b"stream") + 40] ^= 0x01  # inside the first stream: a signed byte
    store_dossier(central, "dossier:2", data, bytes(tampered))
    # The same signed PDF with other data in the dossier than the PDF embeds.
    other = dossier_data(3)
    store_dossier(central, "dossier:3", {**other, "form": {"note": "sửa sau khi ký"}},
                  signed_pdf(district, other, district.signer()))
    worker = IntakeWorker(central, district.directory, PASSPHRASE)
    _drain(worker)
    tampered_outcome = central.get("intake:dossier:2")
    assert tampered_outcome["status"] == "needs_attention"
    assert MESSAGES[Problem.INTEGRITY] in tampered_outcome["reasons"]
    assert set(tampered_outcome["reasons"]) <= set(MESSAGES.values())
    mismatch = central.get("intake:dossier:3")
    assert mismatch["status"] == "needs_attention"
    assert MESSAGES[Problem.DOSSIER_MISMATCH] in mismatch["reasons"]
    assert worker.health.needs_attention == 2
    with pytest.raises(Exception, match="missing"):
        central.get("event:dossier:2:received")


def test_a_revoked_device_needs_attention(district: District, central: Any) -> None:
    data = dossier_data(4)
    pdf = signed_pdf(district, data, district.signer())
    district.district.revoke(PASSPHRASE, district.device.certificate.serial_number,
                             "keyCompromise",
                             at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    store_dossier(central, "dossier:4", data, pdf)
    _drain(IntakeWorker(central, district.directory, PASSPHRASE))
    outcome = central.get("intake:dossier:4")
    assert outcome["status"] == "needs_attention"
    assert MESSAGES[Problem.REVOKED] in outcome["reasons"]


def test_a_change_seen_twice_has_its_effects_once(district: District, central: Any) -> None:
    data = dossier_data(5)
    store_dossier(central, "dossier:5", data, signed_pdf(district, data, district.signer()))
    worker = IntakeWorker(central, district.directory, PASSPHRASE)
    _drain(worker)
    first = central.get("intake:dossier:5")
    # Forget the checkpoint (as after a crash before it was written) and read it all again.
    local = central.get_local(CHECKPOINT_ID)
    central.put_local({"_id": CHECKPOINT_ID, "_rev": local["_rev"], "last_seq": 0})
    again = IntakeWorker(central, district.directory, PASSPHRASE)
    _drain(again)
    again.process(central.get("dossier:5"))
    assert central.get("intake:dossier:5")["_rev"] == first["_rev"]
    assert central.get("event:dossier:5:received")["_rev"].startswith("1-")
    counters = [r for r in central.all_docs(include_docs=True)["rows"]
                if r["id"].startswith("intake-counter:")]
    assert len(counters) == 1 and counters[0]["doc"]["issued"] == {"dossier:5": 1}
    assert counters[0]["doc"]["_rev"].startswith("1-")
    assert again.health.processed == 0


def test_transient_failure_retries_then_sets_aside_without_blocking(
        district: District, central: Any) -> None:
    first, second = dossier_data(6), dossier_data(7)
    store_dossier(central, "dossier:6", first, signed_pdf(district, first, district.signer()))
    worker = IntakeWorker(central, district.directory, b"wrong passphrase", max_attempts=2)
    with pytest.raises(Exception, match=r"(?i)passphrase|decrypt|password"):
        worker.run_once()  # the TSA key cannot be opened: a transient failure
    assert worker.health.last_error is not None and "dossier:6" in worker.health.last_error
    assert worker.health.checkpoint_seq == 0 and worker.health.backlog >= 1
    assert worker.health.oldest_pending_seq is not None and worker.health.errors == 1
    with pytest.raises(Exception, match="missing"):
        central.get_local(CHECKPOINT_ID)
    _drain(worker)  # the second attempt gives up on it and the feed moves on
    assert central.get("intake:dossier:6")["reasons"][0].startswith(
        "Không tiếp nhận được sau 2 lần thử")
    store_dossier(central, "dossier:7", second, signed_pdf(district, second, district.signer()))
    _drain(IntakeWorker(central, district.directory, PASSPHRASE))
    assert central.get("intake:dossier:7")["status"] == "received"


def test_health_and_metrics_show_the_intake_worker(tmp_path: Path) -> None:
    from litestar.testing import TestClient

    from api.app import create_app
    from api.services import open_services
    from api.settings import load_settings

    district = make_district(tmp_path / "pki")
    services = open_services(load_settings({"data_dir": tmp_path}, env={}))
    try:
        services.pki_passphrase = PASSPHRASE
        data = dossier_data(8)
        store_dossier(services.central, "dossier:8", data,
                      signed_pdf(district, data, district.signer()))
        services.central.put({"_id": "dossier:9", **dossier_data(9)})  # no signed PDF
        assert services.start_intake()
        deadline = time.monotonic() + 30
        while services.intake.health.processed + services.intake.health.needs_attention < 2:
            assert time.monotonic() < deadline, services.intake.health
            time.sleep(0.1)
        with TestClient(create_app(services.settings, services=services)) as client:
            report = client.get("/health").json()["workers"]["intake"]
            metrics = client.get("/metrics").text
    finally:
        services.close()
    assert report["processed"] == 1 and report["needs_attention"] == 1
    assert report["last_error"] is None and report["checkpoint_seq"] >= 2
    assert "backlog" in report and "oldest_pending_age_seconds" in report
    assert 'doorstep_intake_dossiers{outcome="received"} 1.0' in metrics
    assert 'doorstep_worker_backlog{worker="intake"}' in metrics
