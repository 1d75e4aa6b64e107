"""`doorstep serve` refuses what it cannot run on with a message and a non-zero exit."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

DOORSTEP = Path(sys.executable).with_name("doorstep")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(DOORSTEP), "serve", *args], capture_output=True, text=True,
                          timeout=60, check=False)


def test_unreachable_couchdb_is_a_clear_error(tmp_path: Path) -> None:
    run = _serve("--data", str(tmp_path), "--couchdb", f"http://127.0.0.1:{free_port()}")
    assert run.returncode != 0
    assert "cannot open storage" in run.stderr and "unreachable" in run.stderr
    assert "Traceback" not in run.stderr


def test_bad_settings_are_named(tmp_path: Path) -> None:
    file = tmp_path / "not-a-dir"
    file.write_text("x")
    run = _serve("--data", str(file))
    assert run.returncode != 0 and "server.data_dir" in run.stderr
    config = tmp_path / "doorstep.toml"
    config.write_text("[sync]\nmax_request_bytes = 'lots'\n")
    run = _serve("--data", str(tmp_path / "d"), "--config", str(config))
    assert run.returncode != 0 and "sync.max_request_bytes" in run.stderr
    assert "Traceback" not in run.stderr
