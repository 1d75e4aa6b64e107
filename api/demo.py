"""`doorstep serve --demo`: demo users, a district PKI with three enrolled officer devices,
the procedure catalogue and calendar overrides as reference documents, and a few visits
per officer. Idempotent: a data directory that already holds the demo is left as it is.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import json
from collections.abc import Iterator
from typing import Any

import msgspec

from api.services import Services
from dossiers.catalogue import load_catalogue
from dossiers.examples import _example_data
from dossiers.models import Visit

PASSWORD = "demo"  # noqa: S105 - the documented demo password, only with --demo
PKI_PASSPHRASE = b"demo-passphrase"
WARD = "00004"
OFFICERS = ("officer1", "officer2", "officer3")
USERS: tuple[tuple[str, str, str], ...] = (
    ("officer1", "officer", "Trần Thị Bình"),
    ("officer2", "officer", "Lê Văn Cường"),
    ("officer3", "officer", "Phạm Thị Dung"),
    ("handler1", "handler", "Hoàng Văn Em"),
    ("supervisor1", "supervisor", "Đỗ Thị Giang"),
    ("admin", "admin", "Quản trị hệ thống"),
)
PROCEDURES = ("1.001776", "2.000986", "1.001612")


def demo_visits(username: str, count: int, start: dt.date) -> Iterator[dict[str, Any]]:
    citizen = _example_data().citizen
    procedures = _procedures()
    for n in range(count):
        visit = Visit(
            access=(f"officer:{username}", f"ward:{WARD}"),
            id=f"{username}-{n + 1:03d}",
            citizen=citizen,
            procedures=(procedures[n % len(procedures)],),
            priority_group="nguoi_cao_tuoi",
            officer_id=username,
            planned_date=start + dt.timedelta(days=n),
        )
        doc: dict[str, Any] = msgspec.to_builtins(visit)
        doc["_id"] = f"visit:{visit.id}"
        yield doc


def reference_documents() -> list[dict[str, Any]]:
    catalogue = load_catalogue()
    overrides = importlib.resources.files("dossiers").joinpath("calendar_overrides.json")
    return [
        {"_id": "reference:catalogue", "type": "reference", "kind": "catalogue", "schema": 1,
         "procedures": msgspec.to_builtins(list(catalogue))},
        {"_id": "reference:calendar-overrides", "type": "reference",
         "kind": "calendar-overrides", "schema": 1,
         "overrides": json.loads(overrides.read_text(encoding="utf-8"))},
    ]


def _procedures() -> tuple[str, ...]:
    codes = tuple(p.code.value for p in load_catalogue())
    return codes[:3] or PROCEDURES


def install_demo(services: Services, *, visits_per_officer: int = 3,
                 with_pki: bool = True) -> list[str]:
    """Create the demo (once); answer the lines to print."""
    auth, central = services.auth, services.central
    lines = ["Dữ liệu mẫu (chỉ với --demo); mật khẩu của mọi tài khoản: demo"]
    fresh = auth.user("admin") is None
    for username, role, full_name in USERS:
        if auth.user(username) is None:
            auth.create_user(username, PASSWORD, role, full_name, wards=(WARD,))
        lines.append(f"  {username:<12} {role}")
    if not fresh:
        if (services.settings.server.data_dir / "pki").exists():
            services.pki_passphrase = services.pki_passphrase or PKI_PASSPHRASE
        return lines
    docs = reference_documents()
    today = dt.date.today()
    for username in OFFICERS:
        docs.extend(demo_visits(username, visits_per_officer, today))
    if with_pki:
        docs.append(_install_pki(services))
    central.bulk_docs(docs)
    services.follower.catch_up()
    return lines


def _install_pki(services: Services) -> dict[str, Any]:
    from api.auth.users import DeviceRecord
    from signing.pki import init_pki

    directory = services.settings.server.data_dir / "pki"
    services.pki_passphrase = services.pki_passphrase or PKI_PASSPHRASE
    pki = init_pki(directory, "Phường Demo", PKI_PASSPHRASE)
    for n, username in enumerate(OFFICERS, start=1):
        device_id = f"demo-device-{n}"
        cert = pki.issue_device(PKI_PASSPHRASE, officer_id=username,
                                officer_name=username, device_id=device_id)
        services.auth.save_device(DeviceRecord(device_id=device_id, username=username,
                                               certificate_serial=cert.serial_hex), None)
    return pki.reference_document()
