"""A real `doorstep serve` (demo users, district PKI, intake worker) for the device's tests,
on the embedded store or on PouchDB Server, and the back office's side of the scenarios."""

from __future__ import annotations

import datetime as dt
import io
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
from PIL import Image, ImageDraw
from support.serve import DOORSTEP as DOORSTEP  # re-exported: the tests run its commands
from support.serve import serving

from dossiers import default_calendar, load_catalogue
from dossiers.examples import example_dossier
from dossiers.models import Dossier
from field.device import Device
from field.session import ServerSession
from field.sync import DeviceSync

ROOT = Path(__file__).resolve().parents[3]
PKI_PASSPHRASE = "demo-passphrase"  # the demo's district PKI (api/demo.py)
PASSWORD = "demo"
WARD = "00004"
# Cheap hashing: argon2's cost is not what these tests measure.
CHEAP = {"DOORSTEP_AUTH_ARGON2_MEMORY_KIB": "1024", "DOORSTEP_AUTH_ARGON2_TIME_COST": "1",
         "DOORSTEP_FIELD_ARGON2_MEMORY_KIB": "1024", "DOORSTEP_FIELD_ARGON2_TIME_COST": "1"}
os.environ.update({k: v for k, v in CHEAP.items() if k.startswith("DOORSTEP_FIELD")})


@dataclass
class Server:
    url: str
    data_dir: Path
    central_url: str | None
    log: Path

    def central(self) -> Any:
        """The central database opened from outside the server, as another process would."""
        if self.central_url is not None:
            from sync.couchdb import CouchServer

            base, _, name = self.central_url.rpartition("/")
            return CouchServer(base).open(name)
        from sync.store import Store

        return Store(self.data_dir / "db").open("doorstep")

    def token(self, username: str, device_id: str | None = None) -> str:
        answer = httpx.post(f"{self.url}/api/auth/token", json={
            "username": username, "password": PASSWORD,
            "device_id": device_id or f"office-{username}"})
        answer.raise_for_status()
        return str(answer.json()["access_token"])

    def api(self, username: str) -> httpx.Client:
        """A back-office client logged in as `username`."""
        return httpx.Client(base_url=self.url, timeout=60, headers={
            "Authorization": f"Bearer {self.token(username)}"})

    def wait_for(self, doc_id: str, timeout: float = 60.0) -> dict[str, Any]:
        """The central document `doc_id` once it exists (e.g. intake's outcome)."""
        central = self.central()
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    doc: dict[str, Any] = central.get(doc_id)
                    return doc
                except Exception:
                    if time.monotonic() > deadline:
                        tail = self.log.read_text(errors="replace")[-3000:]
                        raise AssertionError(f"{doc_id} did not appear within {timeout} s; "
                                             f"server log:\n{tail}") from None
                    time.sleep(0.2)
        finally:
            close = getattr(central, "close", None)
            if close is not None:
                close()


@contextmanager
def running_server(tmp_path: Path, couch_url: str | None,
                   extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """`doorstep serve --demo` with its district PKI and intake worker running."""
    env = {**os.environ, **CHEAP, "DOORSTEP_PKI_PASSPHRASE": PKI_PASSPHRASE,
           **(extra_env or {})}
    storage: list[str] = []
    central_url = None
    if couch_url is not None:
        prefix = f"t{uuid.uuid4().hex[:10]}-"
        storage = ["--couchdb", couch_url]
        env["DOORSTEP_DB_PREFIX"] = prefix
        central_url = f"{couch_url}/{prefix}doorstep"
    with serving(["--demo", "--data", str(tmp_path / "server"), *storage], env=env,
                 log=tmp_path / "server.log", cwd=ROOT, stop_timeout=15) as running:
        assert "Chưa chạy tiếp nhận" not in running.log.read_text(), "intake is not running"
        yield Server(running.url, tmp_path / "server", central_url, running.log)


# --- the device -----------------------------------------------------------------------


@dataclass
class FieldDevice:
    device: Device
    session: ServerSession

    def sync(self) -> Any:
        return DeviceSync(self.device, self.session).sync_once()


def field_device(server_url: str, directory: Path, username: str = "officer1",
                 pin: str | None = None) -> FieldDevice:
    device = Device.open(directory, pin=pin)
    session = ServerSession(server_url, username, device.state.device_id)
    session.login(PASSWORD)
    return FieldDevice(device, session)


def drawing() -> bytes:
    """A citizen's signature drawn on the screen (PNG)."""
    image = Image.new("RGBA", (400, 150), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(10, 110), (90, 25), (210, 125), (390, 35)],
                               fill=(0, 0, 120, 255), width=6)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def photo(seed: int, size: int = 40_000) -> bytes:
    """A JPEG-looking photo of a paper (random bytes between JPEG markers)."""
    body = uuid.UUID(int=seed).bytes * (size // 16)
    return b"\xff\xd8" + body + b"\xff\xd9"


def new_dossier(device: Device, officer: str, procedure: str = "1.001776", *,
                visit_id: str | None = None,
                received_at: dt.datetime | None = None) -> tuple[Dossier, dict[str, bytes]]:
    """A valid dossier captured on `device` now, with the photos its checklist names."""
    at = received_at or dt.datetime.now(dt.UTC)
    example = example_dossier(load_catalogue(), procedure, received_at=at,
                              calendar=default_calendar())
    dossier = msgspec.structs.replace(
        example, access=(f"officer:{officer}", f"ward:{WARD}"),
        provisional_code=device.next_provisional_code(), official_code=None,
        officer_id=officer, visit_id=visit_id)
    photos = {name: photo(n) for n, entry in enumerate(dossier.documents)
              for name in entry.attachments}
    return dossier, photos


def poll(check: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        time.sleep(0.2)
