"""Our replicator (sync.replicator over HttpPeer with a bearer token) as an officer's
device against a real `doorstep serve`: pull, push with multipart attachments, resume,
and a visit reassigned by the back office leaving the device through the purge list."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import httpx
from gateway_helpers import RunningServer, dossier_doc

from sync.peers import HttpPeer, LocalPeer
from sync.replicator import replicate
from sync.store import Store


def _device(tmp_path: Path) -> tuple[Store, LocalPeer]:
    store = Store(tmp_path / "device")
    db = store.open("officer1", create=True)
    return store, LocalPeer.of(db, "device")


def test_replicator_device_pulls_pushes_and_resumes(
    demo_server: RunningServer, tmp_path: Path
) -> None:
    token = demo_server.token("officer1", "replicator-phone")
    remote = HttpPeer(f"{demo_server.url}/sync/officer1", bearer=token)
    store, local = _device(tmp_path)
    pulled = replicate(remote, local)
    device_db = store.open("officer1")
    ids = {r["id"] for r in device_db.all_docs()["rows"]}
    assert {"visit:officer1-001", "visit:officer1-002", "visit:officer1-003"} <= ids
    assert not any("officer2" in i for i in ids)
    assert pulled.docs_written == len(ids)

    photo = os.urandom(200 * 1024)
    doc = dossier_doc("officer1", 7)
    doc["_attachments"] = {f"p{i}.jpg": {"content_type": "image/jpeg",
                                         "data": base64.b64encode(photo).decode()}
                           for i in (1, 2, 3)}
    device_db.put(doc)
    pushed = replicate(local, remote)
    assert pushed.docs_written == 1 and pushed.doc_write_failures == 0
    again = replicate(local, remote)  # resumes from its checkpoint: nothing to send
    assert again.docs_written == 0
    headers = {"Authorization": f"Bearer {token}"}
    att = httpx.get(f"{demo_server.url}/sync/officer1/{doc['_id']}/p3.jpg", headers=headers)
    assert att.content == photo


def test_reassigned_visit_leaves_device(demo_server: RunningServer, tmp_path: Path) -> None:
    token = demo_server.token("officer1", "replicator-phone-2")
    remote = HttpPeer(f"{demo_server.url}/sync/officer1", bearer=token)
    store, local = _device(tmp_path)
    replicate(remote, local)
    device_db = store.open("officer1")
    assert device_db.get("visit:officer1-003")["officer_id"] == "officer1"

    # The back office reassigns the visit in the central database (another process).
    central = demo_server.central()
    visit = dict(central.get("visit:officer1-003"))
    visit.update(officer_id="officer2", access=["officer:officer2", "ward:00004"])
    central.put(visit)
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + 10
    purge: list[str] = []
    while time.monotonic() < deadline and not purge:
        purge = httpx.get(f"{demo_server.url}/sync/officer1/_local/doorstep-purge",
                          headers=headers).json()["ids"]
        time.sleep(0.1)
    assert purge == ["visit:officer1-003"]
    replicate(remote, local)
    # The new revision is not sent to officer1 (other documents, such as the intake's
    # outcomes for the demo dossiers, may still arrive meanwhile).
    assert device_db.get("visit:officer1-003")["officer_id"] == "officer1"
    # The device agent honours the purge list (what field/ does at each sync).
    for doc_id in purge:
        revs = [r["ok"]["_rev"] for r in device_db.open_revs(doc_id, "all") if "ok" in r]
        device_db.purge({doc_id: revs})
    assert "visit:officer1-003" not in {r["id"] for r in device_db.all_docs()["rows"]}
    officer2 = demo_server.token("officer2", "phone-of-2")
    feed = httpx.get(f"{demo_server.url}/sync/officer2/_changes",
                     headers={"Authorization": f"Bearer {officer2}"}).json()
    assert "visit:officer1-003" in {r["id"] for r in feed["results"]}
