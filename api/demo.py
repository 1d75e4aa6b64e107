"""`doorstep serve --demo`: demo users, a district PKI with three enrolled officer devices,
the procedure catalogue and calendar overrides as reference documents, and a few visits
per officer, and a handful of dossiers those officers' devices captured a few days ago and
signed for real (drawn citizen signature, device certificate of the demo PKI, whose keys stay
in memory), some already moved on by the handler's events in the workflow's order.
Idempotent: a data directory that already holds the demo is left as it is.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from PIL import Image, ImageDraw

from api.services import Services
from dossiers.calendar import default_calendar
from dossiers.catalogue import load_catalogue
from dossiers.codes import provisional_code
from dossiers.examples import _example_data, example_dossier
from dossiers.models import Event, EventKind, Visit
from field.documents import signed_dossier_document
from signing import pades
from signing.pki import DeviceCertificate, TrustAnchors

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
HANDLER = "handler1"
# Each demo dossier: its officer, its procedure (index into the demo's procedures), and the
# handler's events after intake, in the order the workflow allows them.
DOSSIERS: tuple[tuple[str, int, tuple[EventKind, ...]], ...] = (
    ("officer1", 0, ()),
    ("officer2", 1, ()),
    ("officer3", 2, ("accepted",)),
    ("officer1", 1, ("accepted", "processing")),
    ("officer2", 2, ("supplement_requested",)),
    ("officer3", 0, ("rejected",)),
)
RECEIVED_DAYS_AGO = 3


@dataclass(frozen=True)
class DeviceSigner:
    """A demo officer's enrolled device: its id and its signer (key in memory only)."""

    device_id: str
    signer: pades.Signer


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
        reference, signers = _install_pki(services)
        docs.append(reference)
        docs.extend(demo_dossiers(signers, TrustAnchors.from_reference(reference)))
    central.bulk_docs(docs)
    services.follower.catch_up()
    return lines


def _install_pki(services: Services) -> tuple[dict[str, Any], dict[str, DeviceSigner]]:
    """The PKI's reference document, and each officer's device signer (held in memory only)."""
    from api.auth.users import DeviceRecord
    from signing.pki import init_pki

    directory = services.settings.server.data_dir / "pki"
    services.pki_passphrase = services.pki_passphrase or PKI_PASSPHRASE
    pki = init_pki(directory, "Phường Demo", PKI_PASSPHRASE)
    signers: dict[str, DeviceSigner] = {}
    for n, username in enumerate(OFFICERS, start=1):
        device_id = f"demo-device-{n}"
        cert = pki.issue_device(PKI_PASSPHRASE, officer_id=username,
                                officer_name=username, device_id=device_id)
        services.auth.save_device(DeviceRecord(device_id=device_id, username=username,
                                               certificate_serial=cert.serial_hex), None)
        signers[username] = DeviceSigner(device_id, _signer(cert, pki.issuing_cert))
    return pki.reference_document(), signers


def _signer(issued: DeviceCertificate, issuing: x509.Certificate) -> pades.Signer:
    """The device's signer, through an in-memory PKCS#12 as a device opens its own."""
    if issued.key is None:  # cannot happen: issued without a CSR, the PKI made the key
        raise ValueError(f"demo device certificate {issued.serial_hex} has no key")
    bundle = pkcs12.serialize_key_and_certificates(
        b"demo", issued.key, issued.certificate, [issuing],
        serialization.BestAvailableEncryption(PKI_PASSPHRASE))
    return pades.load_pkcs12(bundle, PKI_PASSPHRASE)


def demo_dossiers(signers: dict[str, DeviceSigner], trust: TrustAnchors,
                  now: dt.datetime | None = None) -> Iterator[dict[str, Any]]:
    """The demo dossiers as their devices synced them, then the handler's events on them."""
    received = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=RECEIVED_DAYS_AGO)
    procedures, drawn, counters = _procedures(), _drawing(), dict.fromkeys(OFFICERS, 0)
    for n, (officer, procedure, kinds) in enumerate(DOSSIERS):
        counters[officer] += 1
        device = signers[officer]
        at = received + dt.timedelta(minutes=37 * n)
        example = example_dossier(load_catalogue(), procedures[procedure % len(procedures)],
                                  received_at=at, calendar=default_calendar())
        dossier = msgspec.structs.replace(
            example, access=(f"officer:{officer}", f"ward:{WARD}"), official_code=None,
            provisional_code=provisional_code(device.device_id.replace("-", ""),
                                              counters[officer]),
            officer_id=officer, visit_id=None)
        photos = {name: _photo(n * 16 + k) for k, entry in enumerate(dossier.documents)
                  for name in entry.attachments}
        doc = signed_dossier_document(dossier, photos=photos, drawing=drawn,
                                      signer=device.signer, trust=trust)
        yield doc
        for step, kind in enumerate(kinds, start=1):
            yield _handler_event(doc, kind, at + dt.timedelta(days=1, hours=step))


def _handler_event(dossier: dict[str, Any], kind: EventKind, at: dt.datetime) -> dict[str, Any]:
    """handler1's event on a demo dossier, readable where the dossier is and in its queue."""
    of_dossier = str(dossier["_id"])
    event = Event(
        access=(*dossier["access"], f"queue:procedure:{dossier['procedure_code']}"),
        id=f"event:{of_dossier}:{kind}:1", dossier=str(dossier["provisional_code"]),
        kind=kind, at=at, actor=HANDLER, role="handler",
        reason=_REASONS.get(kind),
        missing=("Bản sao giấy khai sinh có chứng thực",) if kind == "supplement_requested" else ())
    doc: dict[str, Any] = msgspec.to_builtins(event)
    doc["_id"] = event.id
    return doc


_REASONS: dict[str, str] = {
    "supplement_requested": "Thiếu giấy tờ theo quy định.",
    "rejected": "Hồ sơ không thuộc thẩm quyền giải quyết của Ủy ban nhân dân phường.",
}


def _photo(seed: int, size: int = 20_000) -> bytes:
    """A JPEG-looking photo of a paper (the demo needs bytes, not a picture)."""
    body = uuid.UUID(int=seed + 1).bytes * (size // 16)
    return b"\xff\xd8" + body + b"\xff\xd9"


def _drawing() -> bytes:
    """A citizen's signature drawn on the screen (PNG)."""
    image = Image.new("RGBA", (400, 150), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(10, 110), (90, 25), (210, 125), (390, 35)],
                               fill=(0, 0, 120, 255), width=6)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()
