"""Issue 7's end-to-end test, on both storage backends, against a real `doorstep serve`
(district PKI, intake worker) and an officer's device (embedded store + our replicator,
enrolled through `/api/auth/enroll`):

visit planned by the back office → pulled by the device → offline: dossier captured,
declaration rendered and signed (citizen's drawing + device certificate) → pushed →
intake validates, codes and timestamps it → the handler asks for a supplement → the device
pulls the request and brings the missing paper → the handler accepts, processes, resolves,
uploads the result (sealed) and marks it ready → the device pulls the sealed result and
pushes the `returned` event with the citizen's signed acknowledgment → the timeliness
report counts it early or on time → its keeping time over, the dossier leaves the device.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from round_trip_helpers import (
    WARD,
    Enrolled,
    Server,
    drawing,
    enrolled_device,
    pdfsig_verdicts,
    photo,
    poll,
    post,
    result_pdf,
    running_server,
    wait_status,
)

from dossiers.calendar import local_time
from field.documents import acknowledgment_pdf, officer_event
from field.sync import DeviceSync
from signing.pki import DistrictPki
from signing.verify import verify_document

PROCEDURE = "1.001776"


@pytest.fixture(params=["embedded", "couchdb"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    couch = request.getfixturevalue("pouchdb_server").url if request.param == "couchdb" else None
    with running_server(tmp_path, couch) as running:
        yield running


def _visit(office: Any, citizen: dict[str, Any]) -> dict[str, Any]:
    today = local_time(dt.datetime.now(dt.UTC)).date()
    return post(office, "/api/visits", {
        "citizen": citizen, "procedures": [PROCEDURE], "priority_group": "nguoi_cao_tuoi",
        "officer_id": "officer1", "planned_date": today.isoformat(), "ward": WARD})


def _events_of(phone: Enrolled, dossier_id: str, kind: str) -> list[dict[str, Any]]:
    prefix = f"event:{dossier_id}:{kind}:"
    rows = phone.phone.device.db.all_docs(startkey=prefix, endkey=prefix + "\ufff0",
                                          include_docs=True)["rows"]
    return [r["doc"] for r in rows]


def test_round_trip_from_visit_to_return(server: Server, tmp_path: Path) -> None:
    began = time.monotonic()
    phone = enrolled_device(server, tmp_path / "phone")
    # The device's certificate is the district's: issued by its CA for this device.
    assert phone.signer.signing_cert is not None
    cert = x509.load_der_x509_certificate(phone.signer.signing_cert.dump())
    pki = DistrictPki.open(server.data_dir / "pki")
    assert cert.issuer == pki.issuing_cert.subject
    issued = pki.find_issued(cert.serial_number)
    assert issued is not None and issued.device_id == phone.device_id

    office = server.api("handler1")
    citizen = {"full_name": "Nguyễn Thị Hoà", "identity_number": "001141012345",
               "birth_date": "1941-05-02", "sex": "nu", "address": {
                   "detail": "Số 3 ngõ 12 phố Đội Cấn", "commune_code": WARD,
                   "province_code": "01"}, "phone": "0912000111"}
    visit = _visit(office, citizen)
    visit_id = f"visit:{visit['id']}"

    # The device pulls the visit; from here on it works offline until its next sync.
    phone.sync()
    pulled = phone.get(visit_id)
    assert pulled is not None and pulled["citizen"]["full_name"] == "Nguyễn Thị Hoà"
    dossier, photos = phone.dossier_for_visit(pulled)
    doc = phone.sign(dossier, photos)
    dossier_id = doc["_id"]
    doc_rev = phone.put(doc)
    report = phone.sync()
    assert report.pushed == 1 and report.ok
    declaration = server.central().attachment(dossier_id, "declaration.pdf").read()
    assert pdfsig_verdicts(declaration, tmp_path) == ["Signature is Valid."]

    # Intake: validated, official code, appointment date, B-LTA with the TSA's timestamp.
    outcome = server.wait_for(f"intake:{dossier_id}")
    assert outcome["status"] == "received", outcome.get("reasons")
    official = outcome["official_code"]
    assert official.startswith(f"{dossier.agency_code}-")
    detail = wait_status(office, dossier_id, "received")
    assert detail["row"]["official_code"] == official
    lta = server.central().attachment(f"intake:{dossier_id}", "declaration-lta.pdf").read()
    lta_report = verify_document(lta, pki.trust())
    assert lta_report.ok and lta_report.level == "PAdES-B-LTA", lta_report.all_problems()
    assert lta_report.drawn_signature

    # The handler asks for the missing paper; the request reaches the device.
    missing = ["Giấy xác nhận khuyết tật (bản sao)"]
    asked = post(office, f"/api/dossiers/{dossier_id}/events",
                 {"kind": "supplement_requested", "missing": missing,
                  "reason": "Thiếu giấy xác nhận"})
    assert asked["status"] == "supplement_requested"
    poll(lambda: phone.sync() and _events_of(phone, dossier_id, "supplement_requested"),
         what="the supplement request on the device")
    request = _events_of(phone, dossier_id, "supplement_requested")[0]
    assert request["missing"] == missing

    # Next visit: the officer photographs the paper and records the supplement.
    held = phone.get(dossier_id)
    assert held is not None
    supplement = officer_event(phone.phone.device, held, "supplemented", officer="officer1",
                               attachments={"giay-xac-nhan-khuyet-tat.jpg": photo(99)})
    phone.put(supplement)
    assert phone.sync().pushed == 1
    wait_status(office, dossier_id, "supplemented")

    for kind in ("accepted", "processing", "resolved"):
        post(office, f"/api/dossiers/{dossier_id}/events", {"kind": kind})
    uploaded = office.post(f"/api/dossiers/{dossier_id}/result", content=result_pdf(),
                           headers={"Content-Type": "application/pdf"})
    assert uploaded.status_code == 201, uploaded.text
    ready = post(office, f"/api/dossiers/{dossier_id}/events", {"kind": "result_ready"})
    assert ready["status"] == "result_ready"

    # The device pulls the sealed result and delivers it at the citizen's home.
    result_id = f"result:{dossier_id}"
    poll(lambda: phone.sync() and phone.get(result_id), what="the result on the device")
    sealed = phone.phone.device.db.attachment(result_id, "result.pdf")
    sealed_pdf = b"".join(sealed)
    assert sealed_pdf.startswith(b"%PDF") and hashlib.sha256(sealed_pdf).hexdigest() == \
        uploaded.json()["sha256"]
    seal_report = verify_document(sealed_pdf, phone.trust)  # offline, with the device's CRLs
    assert all(s.intact and s.valid for s in seal_report.signatures), seal_report.to_json()
    acknowledgment = acknowledgment_pdf(
        held, official_code=official, result_digest=hashlib.sha256(sealed_pdf).hexdigest(),
        drawing=drawing(), signer=phone.signer, trust=phone.trust)
    assert pdfsig_verdicts(acknowledgment, tmp_path) == ["Signature is Valid."]
    returned = officer_event(phone.phone.device, held, "returned", officer="officer1",
                             attachments={"acknowledgment.pdf": acknowledgment})
    phone.put(returned)
    assert phone.sync().pushed == 1
    final = wait_status(office, dossier_id, "returned")
    assert final["row"]["timeliness"] in ("early", "on_time")
    assert [e["kind"] for e in final["events"]][-1] == "returned"

    today = local_time(dossier.received_at).date().isoformat()  # the day it was received
    timeliness = office.get("/api/reports/timeliness",
                            params={"by": "procedure", "from": today, "to": today})
    assert timeliness.status_code == 200, timeliness.text
    line = next(li for li in timeliness.json()["lines"] if li["key"] == PROCEDURE)
    assert line["early"] + line["on_time"] == 1 and line["late"] == 0
    elapsed = time.monotonic() - began

    # Its keeping time over (zero days here), the delivered dossier leaves the device —
    # every document of it, purged, so nothing replicates back to the server.
    mine = [r["id"] for r in phone.phone.device.db.all_docs()["rows"] if dossier_id in r["id"]]
    # The dossier, intake's outcome, the result, the receipt event, the handler's five
    # events and the officer's two.
    assert len(mine) == 11, mine
    after = DeviceSync(phone.phone.device, phone.phone.session, keep_days=0).sync_once()
    assert sorted(after.forgotten) == sorted(mine) and after.pushed == 0
    assert not [r for r in phone.phone.device.db.all_docs()["rows"] if dossier_id in r["id"]]
    assert phone.sync().pulled == 0
    assert server.central().get(dossier_id)["_rev"] == doc_rev
    print(f"\nround trip ({(server.central_url and 'couchdb') or 'embedded'}): "
          f"{elapsed:.1f} s from enrollment to the report")
