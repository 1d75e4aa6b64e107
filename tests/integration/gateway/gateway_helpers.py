"""Helpers of the gateway scenarios: logging in, valid domain documents."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
from litestar.testing import TestClient

from dossiers import default_calendar, load_catalogue
from dossiers.examples import example_dossier
from dossiers.models import Event

WARD = "00004"


def login(client: TestClient[Any], username: str, device: str | None = None) -> dict[str, str]:
    answer = client.post("/api/auth/token", json={
        "username": username, "password": "demo", "device_id": device or f"dev-{username}"})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def dossier_doc(officer: str, n: int = 1) -> dict[str, Any]:
    dossier = example_dossier(load_catalogue(), "1.001776",
                              received_at=dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC),
                              calendar=default_calendar())
    doc: dict[str, Any] = msgspec.to_builtins(dossier)
    doc.update(officer_id=officer, access=[f"officer:{officer}", f"ward:{WARD}"],
               provisional_code=f"TT-{officer.upper()}-{n:06d}")
    doc["_id"] = f"dossier:{doc['provisional_code']}"
    return doc


def event_doc(officer: str, dossier: str, n: int = 1) -> dict[str, Any]:
    event = Event(access=(f"officer:{officer}",), id=f"{dossier}-e{n}", dossier=dossier,
                  kind="received", at=dt.datetime(2026, 11, 26, 9, 5, tzinfo=dt.UTC),
                  actor=officer, role="officer")
    doc: dict[str, Any] = msgspec.to_builtins(event)
    doc["_id"] = f"event:{event.id}"
    return doc


@dataclass
class RunningServer:
    url: str
    data_dir: Path
    central_url: str | None = None  # the central database on CouchDB, if that backend

    def central(self) -> Any:
        """The central database, opened from outside the server (as the back office would)."""
        if self.central_url is not None:
            from sync.couchdb import CouchServer

            base, _, name = self.central_url.rpartition("/")
            return CouchServer(base).open(name)
        from sync.store import Store

        return Store(self.data_dir / "db").open("doorstep")

    def token(self, username: str, device_id: str) -> str:
        answer = httpx.post(f"{self.url}/api/auth/token", json={
            "username": username, "password": "demo", "device_id": device_id})
        answer.raise_for_status()
        return str(answer.json()["access_token"])
