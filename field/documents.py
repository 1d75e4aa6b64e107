"""The documents the device writes: signed dossiers and the officer's events.

Guarantees:
- A dossier document is `dossier:<provisional_code>`: the dossier's data exactly as it is
  embedded in its signed declaration (`declaration.pdf`, made by `field.ceremony` and
  signed by `signing.pades`: the citizen's drawing, then the device certificate, which
  locks), with every photo its checklist names as an attachment of the same name — what
  intake checks byte for byte. The dossier is validated by `dossiers` before signing.
- An event document is `event:<dossier_id>:<kind>:<n>`, a `dossiers.models.Event` written
  by the officer (role "officer"), readable by the officer, the dossier's ward and its
  procedure's handler queue (`queue:procedure:<code>`): what the gateway accepts from a
  device. `n` is one more than the events of that kind the device already holds.
- `supplemented` carries the supplement photos; `returned` carries the citizen's signed
  acknowledgment of the result (a PDF with the citizen's drawing, locked by the device).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import mimetypes
from collections.abc import Mapping
from typing import Any

import msgspec

from dossiers.calendar import default_calendar, local_time
from dossiers.catalogue import Catalogue, load_catalogue
from dossiers.models import Dossier, Event, EventKind
from field import ceremony
from field.device import Device
from field.errors import DossierRefused
from signing import forms, pades
from signing.pki import TrustAnchors

DECLARATION = "declaration.pdf"
ACKNOWLEDGMENT = "acknowledgment.pdf"
OFFICER_EVENTS: frozenset[str] = frozenset({"supplemented", "returned", "withdrawn"})


def dossier_id(provisional_code: str) -> str:
    return f"dossier:{provisional_code}"


def _attachment(data: bytes, content_type: str) -> dict[str, str]:
    return {"content_type": content_type, "data": base64.b64encode(data).decode("ascii")}


def _mime(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def officer_of(signer: pades.Signer) -> forms.Person:
    """The officer as the device certificate names them (what the signature report shows)."""
    cert = signer.signing_cert
    subject: dict[str, Any] = cert.subject.native if cert is not None else {}
    return forms.Person(str(subject.get("common_name", "")))


def signed_dossier_document(
    dossier: Dossier,
    *,
    photos: Mapping[str, bytes],
    drawing: bytes,
    signer: pades.Signer,
    trust: TrustAnchors,
    catalogue: Catalogue | None = None,
) -> dict[str, Any]:
    """The dossier as it syncs: validated, its declaration rendered and signed offline."""
    raw = msgspec.json.encode(dossier)
    today = local_time(dt.datetime.now(dt.UTC)).date()
    checked, version = ceremony.checked_dossier(raw, catalogue or load_catalogue(),
                                                today=today, calendar=default_calendar())
    content = ceremony.declaration_content(checked, version, dossier_json=raw, photos=photos,
                                           officer=officer_of(signer))
    pdf = pades.sign_declaration(forms.render_declaration(content), signer, trust,
                                 drawing=drawing)
    doc: dict[str, Any] = {"_id": dossier_id(dossier.provisional_code), **json.loads(raw)}
    attachments = {DECLARATION: _attachment(pdf, "application/pdf")}
    for name, _what in ceremony.photo_names(checked):
        attachments[name] = _attachment(photos[name], _mime(name))
    doc["_attachments"] = attachments
    return doc


def _ward_and_officer(dossier: Mapping[str, Any], officer: str) -> tuple[str, ...]:
    wards = [p for p in dossier.get("access", ()) if isinstance(p, str) and p.startswith("ward:")]
    return (f"officer:{officer}", *wards, f"queue:procedure:{dossier['procedure_code']}")


def next_event_number(device: Device, of_dossier: str, kind: str) -> int:
    prefix = f"event:{of_dossier}:{kind}:"
    rows = device.db.all_docs(startkey=prefix, endkey=prefix + "\ufff0")["rows"]
    return len(rows) + 1


def officer_event(
    device: Device,
    dossier: Mapping[str, Any],
    kind: EventKind,
    *,
    officer: str,
    at: dt.datetime | None = None,
    reason: str | None = None,
    attachments: Mapping[str, bytes] | None = None,
) -> dict[str, Any]:
    """An event the officer records on `dossier` (its document as the device holds it)."""
    if kind not in OFFICER_EVENTS:
        raise DossierRefused(f"cán bộ tiếp nhận không ghi được sự kiện «{kind}» trên thiết bị.",
                             field="kind")
    of_dossier = str(dossier["_id"])
    event_id = f"event:{of_dossier}:{kind}:{next_event_number(device, of_dossier, kind)}"
    event = Event(access=_ward_and_officer(dossier, officer), id=event_id,
                  dossier=str(dossier["provisional_code"]), kind=kind,
                  at=at or dt.datetime.now(dt.UTC), actor=officer, role="officer",
                  reason=reason)
    doc: dict[str, Any] = msgspec.to_builtins(event)
    doc["_id"] = event_id
    if attachments:
        doc["_attachments"] = {name: _attachment(data, _mime(name))
                               for name, data in attachments.items()}
    return doc


def acknowledgment_pdf(
    dossier: Mapping[str, Any],
    *,
    official_code: str,
    result_digest: str,
    drawing: bytes,
    signer: pades.Signer,
    trust: TrustAnchors,
    delivered_at: dt.datetime | None = None,
) -> bytes:
    """The citizen's signed acknowledgment that the result of `dossier` was handed over."""
    moment = local_time(delivered_at or dt.datetime.now(dt.UTC))
    applicant = dossier["applicant"]
    facts = {"dossier_id": dossier["_id"], "official_code": official_code,
             "delivered_at": moment.isoformat(), "result_digest": result_digest}
    content = forms.DeclarationContent(
        title="BIÊN NHẬN TRẢ KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH",
        procedure_name=str(dossier["procedure_code"]),
        dossier_code=official_code,
        agency=f"Bộ phận Một cửa — mã cơ quan {dossier['agency_code']}",
        citizen=forms.Person(str(applicant["full_name"]), str(applicant["identity_number"])),
        officer=officer_of(signer),
        sections=(forms.Section("NHẬN KẾT QUẢ", (
            ("Mã hồ sơ", official_code),
            ("Mã hồ sơ tạm trên thiết bị", str(dossier["provisional_code"])),
            ("Thời điểm trả kết quả", f"{moment:%H:%M} ngày {moment:%d/%m/%Y}"),
            ("Người nhận", str(applicant["full_name"])),
        )),),
        received_at=moment,
        appointment_date=moment.date(),
        dossier_json=json.dumps(facts, ensure_ascii=False, sort_keys=True).encode("utf-8"),
    )
    return pades.sign_declaration(forms.render_declaration(content), signer, trust,
                                  drawing=drawing)
