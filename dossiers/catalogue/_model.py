"""The catalogue's shapes: what a procedure version says, as frozen typed data.

Decoding the packaged JSON into these types is the catalogue's schema check: an unknown key,
a missing key or a wrong type is refused when the catalogue loads, not when a dossier
meets it. Every fact that lacks a primary source carries `verified: false` and its source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Literal

import msgspec

Exemption = Literal["nguoi_co_cong", "ho_ngheo", "nguoi_khuyet_tat"]
FieldType = Literal[
    "text", "date", "datetime", "integer", "boolean", "choice", "identity_number", "phone"
]
LimitKind = Literal["same_day", "working_days"]
FeeKind = Literal["flat", "per_copy", "per_page_tiered", "provincial", "free"]

EXEMPTION_LABELS: dict[str, str] = {
    "nguoi_co_cong": "Người thuộc gia đình có công với cách mạng",
    "ho_ngheo": "Người thuộc hộ nghèo",
    "nguoi_khuyet_tat": "Người khuyết tật",
}


class _Data(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class Fact(_Data, frozen=True):
    text: str
    verified: bool
    source: str


class ProcedureCode(_Data, frozen=True):
    value: str
    verified: bool
    source: str


class Area(_Data, frozen=True):
    code: str | None
    name: str


class HomeService(_Data, frozen=True):
    allowed: bool
    basis: str


class DocumentRequirement(_Data, frozen=True):
    code: str
    name: str
    mandatory: bool


class TimeLimitVariant(_Data, frozen=True):
    """A different limit for part of a procedure, chosen by a form answer."""

    field: str
    equals: str
    kind: LimitKind
    working_days: int
    cutoff: str | None
    extension_working_days: int


class TimeLimit(_Data, frozen=True):
    kind: LimitKind
    working_days: int
    cutoff: str | None
    extension_working_days: int
    extension_when: str | None
    verified: bool
    source: str
    variants: tuple[TimeLimitVariant, ...] = ()

    def for_form(self, form: Mapping[str, object]) -> TimeLimit:
        """The limit that applies to this declaration (a variant may replace the default)."""
        for variant in self.variants:
            if form.get(variant.field) == variant.equals:
                return msgspec.structs.replace(
                    self,
                    kind=variant.kind,
                    working_days=variant.working_days,
                    cutoff=variant.cutoff,
                    extension_working_days=variant.extension_working_days,
                    variants=(),
                )
        return self


class OnTimeRule(_Data, frozen=True):
    """Free when the event (death, birth) in `date_field` is within `within_days` of receipt."""

    date_field: str
    within_days: int


class FeeRule(_Data, frozen=True):
    kind: FeeKind
    amount_vnd: int | None
    unit: str
    set_by: str
    exemptions: tuple[Exemption, ...]
    free_if_on_time: OnTimeRule | None
    verified: bool
    source: str
    example_amount_vnd: int | None = None
    exemptions_note: str | None = None
    copies_field: str | None = None
    pages_field: str | None = None
    next_pages_vnd: int | None = None
    full_rate_pages: int | None = None
    max_per_copy_vnd: int | None = None


class Choice(_Data, frozen=True):
    value: str
    label: str


class FormField(_Data, frozen=True):
    name: str
    label: str
    type: FieldType
    required: bool
    example: str | int | bool
    max_length: int | None = None
    min: int | None = None
    max: int | None = None
    choices: tuple[Choice, ...] = ()
    not_future: bool = False
    must_be_true: bool = False
    birth_date_field: str | None = None
    sex_field: str | None = None


class ProcedureVersion(_Data, frozen=True):
    effective_from: dt.date
    name: str
    legal_basis: tuple[Fact, ...]
    home_service: HomeService
    documents: tuple[DocumentRequirement, ...]
    time_limit: TimeLimit
    fee: FeeRule
    presence: tuple[str, ...]
    result_home_delivery: bool
    form: tuple[FormField, ...]

    @property
    def version(self) -> str:
        """The version label stored on a dossier: the effective date."""
        return self.effective_from.isoformat()

    def field(self, name: str) -> FormField | None:
        return next((f for f in self.form if f.name == name), None)


class Procedure(_Data, frozen=True):
    slug: str
    code: ProcedureCode
    area: Area
    versions: tuple[ProcedureVersion, ...]

    def version_on(self, day: dt.date) -> ProcedureVersion | None:
        """The version in force on `day`: the latest whose effective date is not after it."""
        in_force = [v for v in self.versions if v.effective_from <= day]
        return max(in_force, key=lambda v: v.effective_from) if in_force else None

    def version_named(self, label: str) -> ProcedureVersion | None:
        return next((v for v in self.versions if v.version == label), None)

    @property
    def latest(self) -> ProcedureVersion:
        return max(self.versions, key=lambda v: v.effective_from)
