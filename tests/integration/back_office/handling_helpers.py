"""Fixtures of the handling scenarios: the demo (users, a district PKI with its seal) on a
real store (the server's register follows it), dossiers as intake leaves them, and the in-process
test client.

Dossiers are written as intake writes them (dossier, `received` event, intake outcome)
without the signed declaration: handling reads documents, not the declaration's
signatures (intake's own tests cover those)."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature

from api.app import create_app
from api.demo import PKI_PASSPHRASE, install_demo
from api.services import Services, open_services
from api.settings import load_settings
from dossiers.calendar import default_calendar, local_time
from dossiers.catalogue import load_catalogue
from dossiers.examples import example_dossier
from signing import forms, samples
from signing.pki import DistrictPki
from signing.seal import SEAL_FIELD
from signing.verify import validation_context

CHEAP_ARGON2 = {"DOORSTEP_AUTH_ARGON2_MEMORY_KIB": "1024", "DOORSTEP_AUTH_ARGON2_TIME_COST": "1"}
PROCEDURE = "1.001776"  # seven working days: room for an extension asked in time
WARD = "00004"
ATTACHMENT_LIMIT = 256 * 1024


def _settings(tmp_path: Path, flags: dict[str, Any]) -> Any:
    return load_settings({"data_dir": tmp_path, **flags}, env={
        **CHEAP_ARGON2, "DOORSTEP_SYNC_MAX_ATTACHMENT_BYTES": str(ATTACHMENT_LIMIT)})


@pytest.fixture(params=["embedded", "couchdb"])
def office(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    """The demo with its district PKI, on each storage backend."""
    flags: dict[str, Any] = {}
    if request.param == "couchdb":
        couch = request.getfixturevalue("pouchdb_server")
        flags.update(couchdb_url=couch.url, db_prefix=f"t{uuid.uuid4().hex[:10]}-")
    yield from _office(tmp_path, flags)


@pytest.fixture
def embedded_office(tmp_path: Path) -> Iterator[Services]:
    """The same on the embedded store only (the rules do not depend on storage)."""
    yield from _office(tmp_path, {})


def _office(tmp_path: Path, flags: dict[str, Any]) -> Iterator[Services]:
    opened = open_services(_settings(tmp_path, flags))
    install_demo(opened, visits_per_officer=0, with_pki=True)
    yield opened
    opened.close()


@pytest.fixture
def client(office: Services) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(office.settings, services=office)) as test_client:
        yield test_client


@pytest.fixture
def embedded_client(embedded_office: Services) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(embedded_office.settings, services=embedded_office)) as test:
        yield test


@dataclass(frozen=True)
class Stored:
    dossier_id: str
    provisional_code: str
    received_at: dt.datetime
    due_date: dt.date


def store_received(central: Any, n: int, *, officer: str = "officer1",
                   received_at: dt.datetime | None = None) -> Stored:
    """A dossier as intake leaves it: the dossier, its `received` event, its outcome."""
    at = received_at or dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    dossier = example_dossier(load_catalogue(), PROCEDURE, received_at=at,
                              calendar=default_calendar())
    code = f"TT-{officer.upper()}-{n:06d}"
    dossier_id = f"dossier:{code}"
    access = [f"officer:{officer}", f"ward:{WARD}"]
    doc: dict[str, Any] = msgspec.to_builtins(dossier)
    doc.update(_id=dossier_id, provisional_code=code, officer_id=officer, access=access)
    doc.pop("official_code", None)
    queue = f"queue:procedure:{PROCEDURE}"
    received = f"event:{dossier_id}:received"
    event = {"_id": received, "type": "event", "schema": 1, "id": received,
             "access": [*access, queue], "dossier": code, "kind": "received",
             "at": at.isoformat(), "actor": "intake", "role": "officer"}
    due = default_calendar().due_date(
        at, load_catalogue().get(PROCEDURE).latest.time_limit.for_form(doc["form"]))
    day = local_time(at).date()
    outcome = {"_id": f"intake:{dossier_id}", "type": "intake-outcome", "schema": 1,
               "dossier_id": dossier_id, "dossier": code, "status": "received",
               "official_code": f"000.00.01.H22-{day:%y%m%d}-{n:04d}",
               "received_at": at.isoformat(), "appointment_date": due.isoformat(),
               "queue": queue, "access": [*access, queue], "processed_at": at.isoformat(),
               "reasons": []}
    for answer in central.bulk_docs([doc, event, outcome]):
        assert "error" not in answer, answer
    return Stored(dossier_id, code, at, due)


def post_event(client: TestClient[Any], headers: dict[str, str], dossier_id: str,
               kind: str, **fields: Any) -> Any:
    return client.post(f"/api/dossiers/{dossier_id}/events", json={"kind": kind, **fields},
                       headers=headers)


def result_pdf() -> bytes:
    return forms.render_receipt(samples.sample_declaration()).pdf


def upload_result(client: TestClient[Any], headers: dict[str, str], dossier_id: str,
                  pdf: bytes, content_type: str = "application/pdf") -> Any:
    return client.post(f"/api/dossiers/{dossier_id}/result", content=pdf,
                       headers={**headers, "Content-Type": content_type})


def seal_status(pdf: bytes, services: Services) -> Any:
    """pyHanko's verdict on the seal, against the district's roots and CRLs only."""
    trust = DistrictPki.open(services.settings.server.data_dir / "pki").trust()
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    sig = next(s for s in reader.embedded_signatures if s.field_name == SEAL_FIELD)
    vc = validation_context(trust, mode="require")
    return validate_pdf_signature(sig, signer_validation_context=vc, ts_validation_context=vc)


__all__ = ["PKI_PASSPHRASE"]
