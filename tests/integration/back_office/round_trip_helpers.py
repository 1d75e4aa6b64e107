"""The round trip's actors: a real `doorstep serve` (demo users, district PKI, intake), an
officer's device enrolled through `/api/auth/enroll`, and the back office over HTTP.

The server and device plumbing is shared with tests/integration/field_sync."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "field_sync"))

from field_sync_helpers import (
    DOORSTEP,
    PKI_PASSPHRASE,
    WARD,
    FieldDevice,
    Server,
    drawing,
    field_device,
    photo,
    poll,
    running_server,
)

from dossiers import default_calendar, load_catalogue
from dossiers.examples import example_dossier
from dossiers.models import Dossier
from field.documents import signed_dossier_document
from field.enrollment import device_signer, device_trust, enroll
from signing import forms, pades, samples
from signing.pki import TrustAnchors

PIN = "135790"
OFFICER = "officer1"

__all__ = ["DOORSTEP", "PKI_PASSPHRASE", "WARD", "Enrolled", "Server", "drawing",
           "enrolled_device", "photo", "poll", "running_server"]


@dataclass
class Enrolled:
    """An officer's device with its own district certificate."""

    phone: FieldDevice
    serial: str
    signer: pades.Signer
    trust: TrustAnchors

    @property
    def device_id(self) -> str:
        return self.phone.device.state.device_id

    def sync(self) -> Any:
        return self.phone.sync()

    def get(self, doc_id: str) -> dict[str, Any] | None:
        found = self.phone.device.get(doc_id)
        return dict(found) if found is not None else None

    def dossier_for_visit(self, visit: dict[str, Any]) -> tuple[Dossier, dict[str, bytes]]:
        """Offline, at the citizen's home: the dossier of the visit's first procedure."""
        procedure = str(visit["procedures"][0])
        at = dt.datetime.now(dt.UTC)
        example = example_dossier(load_catalogue(), procedure, received_at=at,
                                  calendar=default_calendar())
        citizen = msgspec.convert(visit["citizen"], type=type(example.applicant))
        dossier = msgspec.structs.replace(
            example, access=(f"officer:{OFFICER}", f"ward:{WARD}"), applicant=citizen,
            provisional_code=self.phone.device.next_provisional_code(), official_code=None,
            officer_id=OFFICER, visit_id=str(visit["id"]))
        photos = {name: photo(n) for n, entry in enumerate(dossier.documents)
                  for name in entry.attachments}
        return dossier, photos

    def sign(self, dossier: Dossier, photos: dict[str, bytes]) -> dict[str, Any]:
        return signed_dossier_document(dossier, photos=photos, drawing=drawing(),
                                       signer=self.signer, trust=self.trust)

    def put(self, doc: dict[str, Any]) -> str:
        return str(self.phone.device.db.put(doc)["rev"])


def enrolled_device(server: Server, directory: Path) -> Enrolled:
    """Log in, sync the district's reference documents, enroll with a CSR."""
    phone = field_device(server.url, directory, OFFICER, pin=PIN)
    phone.sync()
    serial = enroll(phone.device, phone.session, PIN)
    return Enrolled(phone, serial, device_signer(phone.device, PIN),
                    device_trust(phone.device))


def pdfsig_verdicts(pdf: bytes, directory: Path) -> list[str]:
    """poppler's verdict on each signature (an independent validator; it exits 0 whatever
    it finds, so its output is read)."""
    path = directory / f"checked-{hashlib.sha256(pdf).hexdigest()[:12]}.pdf"
    path.write_bytes(pdf)
    found = subprocess.run(["pdfsig", "-nocert", "-no-ocsp", str(path)], capture_output=True,
                           text=True, check=False, timeout=120)
    return [line.split(":", 1)[1].strip() for line in found.stdout.splitlines()
            if line.strip().startswith("- Signature Validation:")]


def result_pdf() -> bytes:
    """The handler's result document (a decision on paper, as a PDF)."""
    return forms.render_receipt(samples.sample_declaration()).pdf


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def post(office: httpx.Client, path: str, body: Any, expect: int = 201) -> dict[str, Any]:
    answer = office.post(path, json=body)
    assert answer.status_code == expect, f"POST {path}: {answer.status_code} {answer.text}"
    data: dict[str, Any] = answer.json()
    return data


def wait_status(office: httpx.Client, dossier_id: str, status: str,
                timeout: float = 60.0) -> dict[str, Any]:
    """The dossier's detail once the register shows `status`."""
    deadline = time.monotonic() + timeout
    while True:
        answer = office.get(f"/api/dossiers/{dossier_id}")
        if answer.status_code == 200:
            detail: dict[str, Any] = answer.json()
            row = detail.get("row", detail)
            if row.get("status") == status:
                return detail
        if time.monotonic() > deadline:
            raise AssertionError(f"{dossier_id} never reached {status}: "
                                 f"{answer.status_code} {answer.text[:2000]}")
        time.sleep(0.2)
