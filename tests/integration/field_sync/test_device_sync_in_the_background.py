"""`doorstep field sync --every N`: the device keeps syncing in the background, and stops
(erasing its data) at the first round after its device is revoked."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import msgspec
from field_sync_helpers import DOORSTEP, PASSWORD, Server

from field.device import STORE_DIR


def test_background_sync_runs_rounds_until_the_device_is_revoked(
    server: Server, tmp_path: Path
) -> None:
    data = tmp_path / "phone"
    env = {**os.environ, "DOORSTEP_FIELD_PASSWORD": PASSWORD}
    process = subprocess.Popen(
        [str(DOORSTEP), "field", "sync", "--server", server.url, "--username", "officer1",
         "--data", str(data), "--every", "5"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Đã đồng bộ: nhận"), first + (process.stderr.read()
                                                             if process.poll() else "")
        began = time.monotonic()
        second = process.stdout.readline()
        assert second.startswith("Đã đồng bộ: nhận 0 tài liệu"), second
        assert time.monotonic() - began >= 3  # a round every 5 s, not a busy loop
        device_id = msgspec.json.decode((data / "device.json").read_bytes())["device_id"]
        with server.api("supervisor1") as office:
            assert office.post(f"/api/admin/devices/{device_id}/revoke").status_code == 200
        assert process.wait(timeout=60) == 3
        assert process.stderr is not None
        assert "xoá dữ liệu" in process.stderr.read()
        assert not (data / STORE_DIR).exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
