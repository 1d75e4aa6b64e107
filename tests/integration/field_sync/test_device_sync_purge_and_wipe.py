"""The officer's device (`field.sync.DeviceSync`: embedded store + our replicator) against a
real `doorstep serve`: it pulls its visits, pushes what it wrote, drops a reassigned visit
for good (the purge list), erases itself when its device is revoked, and refreshes tokens."""

from __future__ import annotations

import base64
import os
import subprocess
import time
from pathlib import Path

import msgspec
import pytest
from field_sync_helpers import DOORSTEP, PASSWORD, Server, field_device, new_dossier, poll

from field.device import STORE_DIR, Device
from field.errors import DeviceError, WipeOrdered
from sync.errors import NotFound


def _dossier_doc(device: Device, officer: str) -> dict[str, object]:
    dossier, photos = new_dossier(device, officer)
    doc: dict[str, object] = {"_id": f"dossier:{dossier.provisional_code}",
                              **msgspec.to_builtins(dossier)}
    doc["_attachments"] = {name: {"content_type": "image/jpeg",
                                  "data": base64.b64encode(data).decode()}
                           for name, data in photos.items()}
    return doc


def test_reassigned_visit_is_purged_and_never_comes_back(server: Server, tmp_path: Path) -> None:
    phone = field_device(server.url, tmp_path / "phone")
    first = phone.sync()
    ids = {r["id"] for r in phone.device.db.all_docs()["rows"]}
    assert {"visit:officer1-001", "visit:officer1-002", "reference:district-pki"} <= ids
    assert not any("officer2" in i for i in ids)
    assert first.pulled == len(ids) and first.pushed == 0 and first.purged == ()
    assert phone.device.state.last_sync_at is not None
    with server.api("supervisor1") as office:  # the device's clock claim was recorded
        devices = {d["device_id"]: d for d in office.get("/api/admin/devices").json()}
    skew = devices[phone.device.state.device_id]["clock_skew_seconds"]
    assert skew is not None and abs(skew) < 30

    # The back office gives visit 002 to officer2 (written straight to the central database
    # by another process, as the visits API does through storage).
    central = server.central()
    visit = dict(central.get("visit:officer1-002"))
    visit.update(officer_id="officer2", access=["officer:officer2", "ward:00004"])
    moved_rev = central.put(visit)["rev"]
    # Meanwhile the device wrote a dossier of its own.
    mine = _dossier_doc(phone.device, "officer1")
    phone.device.db.put(mine)

    report = poll(lambda: (r := phone.sync()).purged and r, what="the purge instruction")
    assert report.purged == ("visit:officer1-002",)
    with pytest.raises(NotFound):
        phone.device.db.get("visit:officer1-002")
    assert phone.device.db.open_revs("visit:officer1-002", "all") == []
    assert central.get(str(mine["_id"]))["officer_id"] == "officer1"  # the push went on

    server.wait_for(f"intake:{mine['_id']}")  # intake's outcome (unsigned: needs attention)
    again = phone.sync()  # the visit is neither pulled back nor pushed back
    assert again.pushed == 0 and again.purged == ()
    assert phone.device.get(f"intake:{mine['_id']}") is not None
    with pytest.raises(NotFound):
        phone.device.db.get("visit:officer1-002")
    assert central.get("visit:officer1-002")["_rev"] == moved_rev
    assert central.get("visit:officer1-002")["officer_id"] == "officer2"


def test_revoked_device_erases_its_store_and_stops(server: Server, tmp_path: Path) -> None:
    phone = field_device(server.url, tmp_path / "phone", pin="2468")
    phone.sync()
    assert phone.device.db.info()["doc_count"] > 0
    assert phone.device.db.encrypted  # a PIN given: citizens' data encrypted at rest
    device_id = phone.device.state.device_id
    with server.api("supervisor1") as office:
        revoked = office.post(f"/api/admin/devices/{device_id}/revoke")
        assert revoked.status_code == 200, revoked.text

    with pytest.raises(WipeOrdered, match="thu hồi"):
        phone.sync()
    assert not (tmp_path / "phone" / STORE_DIR).exists()
    state = msgspec.json.decode((tmp_path / "phone" / "device.json").read_bytes())
    assert state["wiped_at"] and "thu hồi" in state["wipe_reason"]
    assert state["store_key"] is None
    with pytest.raises(DeviceError, match="đã bị xoá"):
        Device.open(tmp_path / "phone", pin="2468")


def test_revoked_device_wipe_from_the_command_line(server: Server, tmp_path: Path) -> None:
    data = tmp_path / "cli-phone"
    env = {**os.environ, "DOORSTEP_FIELD_PASSWORD": PASSWORD}
    command = [str(DOORSTEP), "field", "sync", "--server", server.url, "--username",
               "officer1", "--data", str(data)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Đã đồng bộ: nhận" in done.stdout
    assert PASSWORD not in done.stdout + done.stderr
    device_id = msgspec.json.decode((data / "device.json").read_bytes())["device_id"]
    with server.api("admin") as office:
        assert office.post(f"/api/admin/devices/{device_id}/revoke").status_code == 200
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "xoá dữ liệu" in done.stderr and "Traceback" not in done.stderr
    assert not (data / STORE_DIR).exists()
    status = subprocess.run([str(DOORSTEP), "field", "status", "--data", str(data)],
                            capture_output=True, text=True, timeout=60)
    assert "Dữ liệu đã bị xoá" in status.stdout


def test_wrong_password_is_a_clear_error(server: Server, tmp_path: Path) -> None:
    env = {**os.environ, "DOORSTEP_FIELD_PASSWORD": "not-the-password"}
    done = subprocess.run([str(DOORSTEP), "field", "sync", "--server", server.url,
                           "--username", "officer1", "--data", str(tmp_path / "p")],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "Tên đăng nhập hoặc mật khẩu không đúng" in done.stderr
    assert "Traceback" not in done.stderr and "not-the-password" not in done.stderr


def test_an_expired_token_is_refreshed(server: Server, tmp_path: Path) -> None:
    phone = field_device(server.url, tmp_path / "phone")
    phone.sync()
    stale = phone.session._tokens
    assert stale is not None
    # The device believes its token is good for an hour, but the server sees it as forged
    # (as after a server key rotation): the gateway answers 401, the device refreshes once.
    stale.access = stale.access[:-4] + ("AAAA" if not stale.access.endswith("AAAA") else "BBBB")
    stale.expires_at = time.monotonic() + 3600
    old_refresh = stale.refresh
    phone.sync()
    assert phone.session._tokens is not None and phone.session._tokens.refresh != old_refresh
    assert phone.device.state.last_error is None


def test_a_refused_document_is_reported_and_the_rest_goes_on(
    server: Server, tmp_path: Path
) -> None:
    phone = field_device(server.url, tmp_path / "phone")
    phone.sync()
    good = _dossier_doc(phone.device, "officer1")
    forged = _dossier_doc(phone.device, "officer1")
    forged.update(officer_id="officer2", access=["officer:officer2", "ward:00004"])
    phone.device.db.put(good)
    phone.device.db.put(forged)
    report = phone.sync()
    assert report.pushed == 1 and not report.ok
    assert [doc_id for doc_id, _ in report.refused] == [forged["_id"]]
    assert "officer2" in report.refused[0][1]
    central = server.central()
    assert central.get(str(good["_id"]))["officer_id"] == "officer1"
    with pytest.raises(NotFound):
        central.get(str(forged["_id"]))
    assert phone.device.state.last_error is None  # a refusal is reported, not a failure
