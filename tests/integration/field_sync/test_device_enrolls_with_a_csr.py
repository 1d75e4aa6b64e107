"""`doorstep field enroll`: the device makes its own key, the district CA certifies it
through `/api/auth/enroll`, and the key is kept under the officer's PIN (with the store
encrypted under the same PIN)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from field_sync_helpers import DOORSTEP, PASSWORD, Server

from field.device import Device
from field.enrollment import device_signer, device_trust
from signing.pki import DistrictPki

PIN = "97531"


def test_enroll_from_the_command_line(server: Server, tmp_path: Path) -> None:
    data = tmp_path / "phone"
    env = {**os.environ, "DOORSTEP_FIELD_PASSWORD": PASSWORD, "DOORSTEP_FIELD_PIN": PIN}
    done = subprocess.run(
        [str(DOORSTEP), "field", "enroll", "--server", server.url, "--username", "officer1",
         "--data", str(data)], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert "Đã cấp chứng thư số cho thiết bị" in done.stdout
    assert PIN not in done.stdout + done.stderr and PASSWORD not in done.stdout

    p12 = data / "device.p12"
    assert stat.S_IMODE(p12.stat().st_mode) == 0o600
    device = Device.open(data, pin=PIN)
    assert device.db.encrypted
    signer = device_signer(device, PIN)
    assert signer.signing_cert is not None
    issued = DistrictPki.open(server.data_dir / "pki").find_issued(
        signer.signing_cert.serial_number)
    assert issued is not None and issued.device_id == device.state.device_id
    assert issued.officer_id == "officer1"
    assert device.state.certificate_serial == issued.serial
    assert device_trust(device).roots  # the district chain came with the sync
    device.close()

    status = subprocess.run([str(DOORSTEP), "field", "status", "--data", str(data)],
                           capture_output=True, text=True, timeout=60)
    assert f"Chứng thư số: {issued.serial}" in status.stdout
    locked = subprocess.run(
        [str(DOORSTEP), "field", "sync", "--server", server.url, "--username", "officer1",
         "--data", str(data)], env={**env, "DOORSTEP_FIELD_PIN": "00000"},
        capture_output=True, text=True, timeout=120)
    assert locked.returncode == 1 and "mã PIN không đúng" in locked.stderr
    assert "Traceback" not in locked.stderr
