"""Complete, valid example dossiers, one per procedure, built from the catalogue's data.

Used by `doorstep catalogue example` and by tests that check every procedure's data can
produce a dossier that passes validation. The citizen and agency are packaged
illustrative data (`catalogue/examples.json`); declaration values are each field's
`example`, except that time-of-certification fields take the time of receipt.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources

import msgspec

from dossiers.calendar import WorkingCalendar, local_time
from dossiers.catalogue import Catalogue, ProcedureVersion
from dossiers.codes import next_official_code, provisional_code
from dossiers.fees import assess_fee
from dossiers.models import Citizen, DocumentEntry, Dossier, FormValue


class _ExampleData(msgspec.Struct, frozen=True):
    citizen: Citizen
    agency_code: str
    device_id: str
    officer_id: str
    about: str = ""


def _example_data() -> _ExampleData:
    raw = importlib.resources.files("dossiers.catalogue").joinpath("examples.json").read_bytes()
    return msgspec.json.decode(raw, type=_ExampleData)


def example_form(version: ProcedureVersion, received_at: dt.datetime) -> dict[str, FormValue]:
    form: dict[str, FormValue] = {}
    for spec in version.form:
        if spec.type == "datetime":
            form[spec.name] = local_time(received_at).isoformat(timespec="seconds")
        else:
            form[spec.name] = spec.example
    return form


def example_dossier(
    catalogue: Catalogue, code: str, *, received_at: dt.datetime, calendar: WorkingCalendar
) -> Dossier:
    """A dossier for procedure `code` as received at `received_at` (aware), ready to sync."""
    data = _example_data()
    received_local = local_time(received_at)
    version = catalogue.version(code, received_local.date())
    form = example_form(version, received_at)
    documents = tuple(
        DocumentEntry(
            code=d.code,
            name=d.name,
            mandatory=d.mandatory,
            provided=True,
            attachments=(f"{d.code.lower()}-trang-1.jpg",),
        )
        for d in version.documents
    )
    fee = assess_fee(
        version, form, received_local.date(), provincial_rate=version.fee.example_amount_vnd
    )
    official = next_official_code(data.agency_code, received_local.date(), ())
    return Dossier(
        access=(f"officer:{data.officer_id}", f"ward:{data.citizen.address.commune_code}"),
        provisional_code=provisional_code(data.device_id, 1),
        official_code=str(official),
        agency_code=data.agency_code,
        procedure_code=code,
        procedure_version=version.version,
        applicant=data.citizen,
        place="home" if version.home_service.allowed else "office",
        form=form,
        documents=documents,
        fee=fee,
        received_at=received_local,
        appointment_date=calendar.due_date(received_at, version.time_limit.for_form(form)),
        officer_id=data.officer_id,
    )
