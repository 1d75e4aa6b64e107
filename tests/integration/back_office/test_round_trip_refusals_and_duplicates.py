"""Issue 7's round trip when things go wrong, on both storage backends, against a real
`doorstep serve` with its district PKI and intake worker, and enrolled devices:

- a declaration whose bytes changed after signing lands in needs_attention, with the
  Vietnamese reason, and gets no official code;
- a device revoked by a supervisor cannot push: its sync is refused and its store erased;
- a dossier signed by a device whose certificate the district had revoked (the device,
  offline, still held the old CRL) lands in needs_attention as revoked;
- a dossier pushed twice — again after intake, and by two replications at once from two
  copies of the device's store — is taken in once: one official code, one receipt event.
"""

from __future__ import annotations

import base64
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from round_trip_helpers import (
    DOORSTEP,
    PKI_PASSPHRASE,
    Enrolled,
    Server,
    enrolled_device,
    poll,
    running_server,
    wait_status,
)

from field.device import STORE_DIR, Device
from field.errors import WipeOrdered
from signing.verify import MESSAGES, Problem
from sync.errors import NotFound
from sync.peers import HttpPeer
from sync.replicator import replicate


@pytest.fixture(scope="module", params=["embedded", "couchdb"])
def server(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server per backend for this module: each test enrolls its own device."""
    couch = request.getfixturevalue("pouchdb_server").url if request.param == "couchdb" else None
    with running_server(tmp_path_factory.mktemp(request.param), couch) as running:
        yield running


def _captured(phone: Enrolled) -> dict[str, Any]:
    """A dossier captured and signed offline for one of the device's visits."""
    visit = phone.get("visit:officer1-001")
    assert visit is not None
    dossier, photos = phone.dossier_for_visit(visit)
    return phone.sign(dossier, photos)


def _tamper(doc: dict[str, Any]) -> None:
    pdf = bytearray(base64.b64decode(doc["_attachments"]["declaration.pdf"]["data"]))
    pdf[pdf.index(b"stream") + 40] ^= 0x01  # a byte inside the first signed stream
    doc["_attachments"]["declaration.pdf"]["data"] = base64.b64encode(bytes(pdf)).decode()


def _attention(server: Server, dossier_id: str) -> dict[str, Any]:
    outcome = server.wait_for(f"intake:{dossier_id}")
    assert outcome["status"] == "needs_attention"
    assert "official_code" not in outcome
    with pytest.raises(NotFound):
        server.central().get(f"event:{dossier_id}:received")
    return outcome


def test_a_pdf_changed_after_signing_needs_attention(server: Server, tmp_path: Path) -> None:
    phone = enrolled_device(server, tmp_path / "phone")
    doc = _captured(phone)
    _tamper(doc)
    phone.put(doc)
    assert phone.sync().pushed == 1
    outcome = _attention(server, doc["_id"])
    assert MESSAGES[Problem.INTEGRITY] in outcome["reasons"]
    assert "Nội dung đã bị thay đổi sau khi ký (mã băm không khớp)." in outcome["reasons"]
    with server.api("handler1") as office:
        detail = wait_status(office, doc["_id"], "needs_attention")
    assert MESSAGES[Problem.INTEGRITY] in detail["row"]["attention_reasons"]
    assert detail["row"]["official_code"] is None


def test_a_revoked_device_cannot_push_and_is_wiped(server: Server, tmp_path: Path) -> None:
    phone = enrolled_device(server, tmp_path / "phone")
    doc = _captured(phone)  # captured offline; meanwhile the device is reported lost
    phone.put(doc)
    with server.api("supervisor1") as office:
        answer = office.post(f"/api/admin/devices/{phone.device_id}/revoke")
        assert answer.status_code == 200, answer.text
    with pytest.raises(WipeOrdered):
        phone.sync()
    with pytest.raises(NotFound):
        server.central().get(doc["_id"])
    assert not (tmp_path / "phone" / STORE_DIR).exists()
    assert not (tmp_path / "phone" / "device.p12").exists()  # the signing key is gone too
    # The gateway itself refuses the revoked device's token, whatever client it uses.
    token = phone.phone.session._tokens
    assert token is not None
    refused = httpx.post(f"{server.url}/sync/officer1/_bulk_docs",
                         headers={"Authorization": f"Bearer {token.access}"},
                         json={"docs": [{k: v for k, v in doc.items() if k != "_attachments"}]})
    assert refused.status_code == 401 and refused.json()["wipe"] is True
    # Its certificate is revoked too, and the CRL every device syncs says so.
    reference = server.central().get("reference:district-pki")
    assert phone.serial in [item["serial"] for item in reference["revoked"]]


def test_a_certificate_revoked_before_signing_needs_attention(
    server: Server, tmp_path: Path
) -> None:
    phone = enrolled_device(server, tmp_path / "phone")
    # The district revokes the device's certificate (key reported compromised); the device
    # is offline and still holds the CRL it synced before.
    revoked = subprocess.run(
        [str(DOORSTEP), "pki", "revoke", "--dir", str(server.data_dir / "pki"), phone.serial,
         "--reason", "keyCompromise"],
        env={**os.environ, "DOORSTEP_PASSPHRASE": PKI_PASSPHRASE},
        capture_output=True, text=True, timeout=120)
    assert revoked.returncode == 0, revoked.stderr
    # The CRL dates the revocation to the second and validators allow a second of clock
    # tolerance: the officer's next signature comes a moment later, as in the field.
    time.sleep(3)
    doc = _captured(phone)
    phone.put(doc)
    assert phone.sync().pushed == 1  # the officer's login is still valid
    outcome = _attention(server, doc["_id"])
    assert MESSAGES[Problem.REVOKED] in outcome["reasons"]


def test_a_dossier_pushed_twice_is_taken_in_once(server: Server, tmp_path: Path) -> None:
    phone = enrolled_device(server, tmp_path / "phone")
    doc = _captured(phone)
    dossier_id = doc["_id"]
    phone.put(doc)
    # A copy of the device's store (restored from a backup on a second phone): a different
    # replication of the same revisions. Both push at once.
    copy = Device.open(tmp_path / "copy")
    replicate(phone.phone.device.peer(), copy.peer())
    remote = f"{server.url}/sync/officer1"
    errors: list[BaseException] = []

    def push(device: Device) -> None:
        peer = HttpPeer(remote, bearer=phone.phone.session.access_token())
        try:
            replicate(device.peer(), peer)
        except BaseException as exc:
            errors.append(exc)
        finally:
            peer.close()

    threads = [threading.Thread(target=push, args=(d,)) for d in (phone.phone.device, copy)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    outcome = server.wait_for(f"intake:{dossier_id}")
    assert outcome["status"] == "received", outcome.get("reasons")

    # Pushed again after intake: the same revision (nothing to send), then the same
    # content as a new revision (the gateway allows an identical body).
    assert phone.sync().pushed == 0
    token = phone.phone.session.access_token()
    headers = {"Authorization": f"Bearer {token}"}
    current = httpx.get(f"{remote}/{dossier_id}", headers=headers).json()
    again = httpx.put(f"{remote}/{dossier_id}", headers=headers, json=current)
    assert again.status_code == 201, again.text
    central = server.central()
    _wait_intake_past(server, central.info()["update_seq"])  # it saw the second revision
    assert central.get(f"intake:{dossier_id}")["_rev"] == outcome["_rev"]
    assert central.get(f"event:{dossier_id}:received")["_rev"].startswith("1-")
    with server.api("handler1") as office:
        detail = wait_status(office, dossier_id, "received")
    report_ids = [e["id"] for e in detail["events"] if e["kind"] == "received"]
    assert len(report_ids) == 1
    counters = central.all_docs(startkey="intake-counter:", endkey="intake-counter:\ufff0",
                                include_docs=True)["rows"]
    issued = [code for row in counters for doc_id, code in row["doc"]["issued"].items()
              if doc_id == dossier_id]
    assert len(issued) == 1
    with server.api("handler1") as office:
        listed = office.get("/api/dossiers", params={"q": "Nguyễn Văn An", "limit": 200})
        assert listed.status_code == 200, listed.text
        codes = [i["official_code"] for i in listed.json()["items"]
                 if i["dossier_id"] == dossier_id]
    assert codes == [outcome["official_code"]]


def _wait_intake_past(server: Server, seq: Any) -> None:
    """Until the intake worker's checkpoint has passed `seq` (it saw every change)."""
    central = server.central()

    def done() -> bool:
        try:
            checkpoint = central.get_local("_local/intake-checkpoint")
        except NotFound:
            return False
        return int(checkpoint["last_seq"]) >= int(str(seq).split("-")[0])

    poll(done, what="intake's checkpoint past the second push")
