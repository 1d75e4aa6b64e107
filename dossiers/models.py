"""The shapes that sync: citizens, visits, dossiers and their events, as typed documents.

Every synced document carries `type` (the msgspec tag), `schema` (its version) and `access`
(the principals that may read it, e.g. `officer:o12`, `ward:26734`), per DESIGN.md "Sync".
A dossier is written once by the device that created it; its state changes are separate,
append-only `Event` documents, so the device and the back office never edit the same
document. Text is stored NFC (see `validation.normalise`). Times are timezone-aware.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from dossiers.catalogue import Exemption

SCHEMA_VERSION = 1

Sex = Literal["nam", "nu"]
Role = Literal["officer", "handler", "supervisor"]
Place = Literal["home", "office"]
PriorityGroup = Literal["nguoi_cao_tuoi", "nguoi_co_cong", "nguoi_khuyet_tat", "bat_kha_khang"]
# A cancelled visit stays on the officer's device, marked, rather than vanishing unexplained.
VisitStatus = Literal["planned", "cancelled"]
FormValue = str | int | bool
# A time with its UTC offset: decoding refuses a naive time rather than guessing its zone.
AwareDatetime = Annotated[dt.datetime, msgspec.Meta(tz=True)]
EventKind = Literal[
    "received",
    "accepted",
    "supplement_requested",
    "supplemented",
    "rejected",
    "processing",
    "extension_requested",
    "resolved",
    "result_ready",
    "returned",
    "withdrawn",
    "stopped",
]

SEX_LABELS: dict[str, str] = {"nam": "Nam", "nu": "Nữ"}
PRIORITY_LABELS: dict[str, str] = {
    "nguoi_cao_tuoi": "Người cao tuổi",
    "nguoi_co_cong": "Người có công với cách mạng",
    "nguoi_khuyet_tat": "Người khuyết tật",
    "bat_kha_khang": "Trường hợp bất khả kháng",
}


class _Value(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class Address(_Value, frozen=True):
    """A postal address with the two-level administrative-unit codes (Decision 19/2025)."""

    detail: str
    commune_code: str
    province_code: str


class Citizen(_Value, frozen=True):
    """The applicant (or the person the procedure concerns, when the form says so)."""

    full_name: str
    identity_number: str
    birth_date: dt.date
    sex: Sex
    address: Address
    phone: str | None = None


class DocumentEntry(_Value, frozen=True):
    """One line of the dossier's checklist (thành phần hồ sơ) and the files that cover it."""

    code: str
    name: str
    mandatory: bool
    provided: bool
    attachments: tuple[str, ...] = ()


class FeeAssessment(_Value, frozen=True):
    """What the applicant pays, and the exemption that applied, if any."""

    amount_vnd: int
    exemption: Exemption | None = None
    on_time_exempt: bool = False
    note: str = ""


class _Document(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="type"
):
    schema: int = SCHEMA_VERSION
    access: tuple[str, ...]


class Visit(_Document, tag="visit", frozen=True, kw_only=True):
    """A planned home visit: who, for which procedures, by which officer, when."""

    id: str
    citizen: Citizen
    procedures: tuple[str, ...]
    priority_group: PriorityGroup
    officer_id: str
    planned_date: dt.date
    status: VisitStatus = "planned"
    cancel_reason: str | None = None


class Dossier(_Document, tag="dossier", frozen=True, kw_only=True):
    """A dossier as the device captured it; its status lives in its events."""

    provisional_code: str
    official_code: str | None = None
    agency_code: str
    procedure_code: str
    procedure_version: str
    applicant: Citizen
    place: Place
    form: dict[str, FormValue]
    documents: tuple[DocumentEntry, ...]
    fee: FeeAssessment
    received_at: AwareDatetime
    appointment_date: dt.date
    needs_verification: bool = False
    officer_id: str
    visit_id: str | None = None


class Event(_Document, tag="event", frozen=True, kw_only=True):
    """One append-only state change of a dossier (`dossier` is its provisional code)."""

    id: str
    dossier: str
    kind: EventKind
    at: AwareDatetime
    actor: str
    role: Role
    reason: str | None = None
    missing: tuple[str, ...] = ()
    apology: str | None = None
    new_appointment: dt.date | None = None


SyncedDocument = Visit | Dossier | Event


def encode(document: SyncedDocument) -> bytes:
    return msgspec.json.encode(document)


def decode(data: bytes | str) -> SyncedDocument:
    """Decode any synced domain document by its `type`."""
    document: SyncedDocument = msgspec.json.decode(data, type=SyncedDocument)
    return document
