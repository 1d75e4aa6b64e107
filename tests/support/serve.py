"""A real `doorstep serve` process for scenario tests and benchmarks.

`serving` starts the venv's `doorstep serve` on a free port with its output in a log file,
yields once GET /health answers 200, and terminates the process on exit. A process that
exits early, or does not answer within the deadline, is a RuntimeError carrying the log's
tail, so a failed start says why without opening the file.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from support.pouchdb_server import free_port

# The `doorstep` script installed next to the interpreter running the tests (the venv's).
DOORSTEP = Path(sys.executable).with_name("doorstep")
_PROBE_SECONDS = 2.0  # one /health request; a server still starting may be slow to answer
_POLL_SECONDS = 0.2
_TAIL_CHARS = 3000


@dataclass(frozen=True)
class ServeProcess:
    """A `doorstep serve` that answers /health: where to reach it, where it logs."""

    url: str
    port: int
    log: Path


@contextmanager
def serving(args: Sequence[str], *, env: Mapping[str, str], log: Path,
            cwd: Path | None = None, start_timeout: float = 60.0,
            stop_timeout: float = 10.0) -> Iterator[ServeProcess]:
    """`doorstep serve ARGS --port N` on a free port N, with exactly `env` as environment
    and stdout and stderr in `log`; ready when yielded, terminated on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(DOORSTEP), "serve", *args, "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=dict(env), cwd=cwd)
        try:
            _wait_healthy(process, url, log, start_timeout)
            yield ServeProcess(url, port, log)
        finally:
            process.terminate()
            process.wait(timeout=stop_timeout)


def _wait_healthy(process: subprocess.Popen[bytes], url: str, log: Path,
                  timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"doorstep serve exited with status {process.returncode}; "
                               f"{_tail(log)}")
        try:
            if httpx.get(f"{url}/health", timeout=_PROBE_SECONDS).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet
        if time.monotonic() > deadline:
            raise RuntimeError(f"doorstep serve did not answer /health within {timeout:g} s; "
                               f"{_tail(log)}")
        time.sleep(_POLL_SECONDS)


def _tail(log: Path) -> str:
    return f"end of {log}:\n{log.read_text(errors='replace')[-_TAIL_CHARS:]}"
