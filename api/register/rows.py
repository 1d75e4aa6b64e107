"""One row of the back office's register: what a handler sees of a dossier in a list.

The row is a frozen value computed from the dossier's documents (see `api.register.compute`);
every field a list filters or sorts on is here, so the register's SQLite table is its mirror.
"""

from __future__ import annotations

import datetime as dt

import msgspec


class RegisterRow(msgspec.Struct, frozen=True, kw_only=True):
    dossier_id: str
    provisional_code: str
    official_code: str | None
    procedure_code: str
    procedure_name: str
    officer_id: str
    ward: str | None  # from access "ward:<code>"
    applicant_name: str
    identity_number: str
    # a dossiers.workflow.Status value, "submitted" (synced, intake not done) or "needs_attention"
    status: str
    portal_status: int | None
    received_at: dt.datetime | None
    due_date: dt.date | None  # the current appointment date (after any extension)
    due_before_extension: dt.date | None
    ended_at: dt.datetime | None  # dossiers.deadlines.end_of_processing
    timeliness: str  # early | on_time | late | pending, evaluated as of the query's day
    supplement_requests: int
    attention_reasons: tuple[str, ...] = ()
    has_result: bool = False
