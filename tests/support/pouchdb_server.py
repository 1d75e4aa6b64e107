"""A PouchDB Server for the tests: started once per session on a free port in a temp dir.

If COUCHDB_URL is set (e.g. `http://admin:pw@127.0.0.1:5984`), that server is used instead
and nothing is started. Tests create uniquely named databases (`new_db_url`), so they never
collide. A missing PouchDB Server is a failure, not a skip: `make test` installs it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

JS_DIR = Path(__file__).resolve().parents[1] / "js"
POUCHDB_SERVER = JS_DIR / "node_modules" / ".bin" / "pouchdb-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes] | None, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"pouchdb-server exited early:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"pouchdb-server did not answer at {url} within 30 s")


class PouchServer:
    """A running server (ours or COUCHDB_URL's) and a way to make fresh databases on it."""

    def __init__(self, url: str, process: subprocess.Popen[bytes] | None, workdir: Path | None):
        self.url = url.rstrip("/")
        self.process = process
        self.workdir = workdir

    def new_db_url(self, prefix: str = "t") -> str:
        """The URL of a database that does not exist yet (not created)."""
        return f"{self.url}/{prefix}-{uuid.uuid4().hex[:12]}"

    def create_db(self, prefix: str = "t") -> str:
        url = self.new_db_url(prefix)
        response = httpx.put(url, timeout=30)
        assert response.status_code in (201, 202), response.text
        return url

    def alive(self) -> bool:
        return self.process is None or self.process.poll() is None


def start_pouchdb_server(
    *, admin: tuple[str, str] | None = None, private: bool = False
) -> PouchServer:
    """Start a server, or use COUCHDB_URL's unless `private` (a server of the caller's own,
    e.g. to change its configuration) or `admin` (a private one that leaves the admin
    party: anonymous requests to a members-only db then get 401)."""
    external = os.environ.get("COUCHDB_URL")
    if external and admin is None and not private:
        _wait_until_up(external, None, Path(os.devnull))
        return PouchServer(external, None, None)
    if not POUCHDB_SERVER.exists():
        pytest.fail(f"pouchdb-server is not installed at {POUCHDB_SERVER}: run `make deps`")
    workdir = Path(tempfile.mkdtemp(prefix="pouchdb-server-"))
    port = free_port()
    log = workdir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(POUCHDB_SERVER), "--port", str(port), "--dir", str(workdir / "data")],
            cwd=workdir,  # it writes config.json and log.txt into its working directory
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, log)
        if admin is not None:
            name, password = admin
            response = httpx.put(f"{url}/_config/admins/{name}", json=password, timeout=30)
            assert response.status_code == 200, response.text
    except BaseException:
        process.kill()
        raise
    return PouchServer(url, process, workdir)


def stop_pouchdb_server(server: PouchServer) -> None:
    if server.process is not None:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
    if server.workdir is not None:
        shutil.rmtree(server.workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def pouchdb_server() -> Iterator[PouchServer]:
    server = start_pouchdb_server()
    yield server
    stop_pouchdb_server(server)


@pytest.fixture
def new_db(pouchdb_server: PouchServer) -> Callable[[str], str]:
    """Make a fresh, empty database on the server and return its URL."""
    return pouchdb_server.create_db
