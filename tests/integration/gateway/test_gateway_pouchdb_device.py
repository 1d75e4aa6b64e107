"""PouchDB as an officer's device: bearer login, pull (interrupted, then resumed), push of
dossiers with attachments — against a real `doorstep serve` process."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import httpx
from gateway_helpers import RunningServer, dossier_doc

SCRIPT = Path(__file__).resolve().parents[2] / "js" / "gateway_pouch_device.js"


def test_pouchdb_device_pulls_visits_and_pushes_dossiers(
    demo_server: RunningServer, tmp_path: Path
) -> None:
    photo = os.urandom(200 * 1024)
    dossiers = []
    for n in (1, 2):
        doc = dossier_doc("officer1", n)
        doc["_attachments"] = {f"trang-{i}.jpg": {
            "content_type": "image/jpeg", "data": base64.b64encode(photo).decode()}
            for i in (1, 2, 3)}
        dossiers.append(doc)
    file = tmp_path / "dossiers.json"
    file.write_text(json.dumps(dossiers))
    run = subprocess.run(["node", str(SCRIPT), demo_server.url, "officer1", "demo",
                          "pouch-phone-1", str(file)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    pulled = set(result["pulled_ids"])
    assert {"visit:officer1-001", "visit:officer1-002", "visit:officer1-003"} <= pulled
    assert {"reference:catalogue", "reference:district-pki"} <= pulled
    assert not any("officer2" in i or "officer3" in i for i in pulled)
    # Interrupted after its first batch, the second run resumed from the checkpoint.
    assert result["first_batch"] >= 1
    assert result["resumed_docs_read"] < len(pulled)
    assert result["push"]["docs_written"] == 2 and result["push"]["doc_write_failures"] == 0
    assert result["foreign_visit"] == 404
    headers = {"Authorization": f"Bearer {demo_server.token('officer1', 'checker')}"}
    doc_id = dossiers[0]["_id"]
    stored = httpx.get(f"{demo_server.url}/sync/officer1/{doc_id}", headers=headers).json()
    assert sorted(stored["_attachments"]) == ["trang-1.jpg", "trang-2.jpg", "trang-3.jpg"]
    att = httpx.get(f"{demo_server.url}/sync/officer1/{doc_id}/trang-2.jpg", headers=headers)
    assert att.content == photo
    other = {"Authorization": f"Bearer {demo_server.token('officer2', 'other-phone')}"}
    feed = httpx.get(f"{demo_server.url}/sync/officer2/_changes", headers=other).json()
    assert doc_id not in {r["id"] for r in feed["results"]}
