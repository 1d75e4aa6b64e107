"""The reports' I/O: rows from the register, names from the auth users, dossiers from the
central database; the arithmetic is `api.reports.aggregate`, the export shapes
`dossiers.exports`. Everything here is synchronous: controllers call it from a worker thread.

Guarantees:
- "Today" and "now" are the register's (its clock, Asia/Ho_Chi_Minh), the same day the
  rows' timeliness was evaluated on.
- Exports hold the dossiers received in the range that intake took in (they have a
  `received` event, hence a portal status). Dossiers still awaiting intake or needing
  attention are not in the portal's sense received; the volumes report counts them.
- The dossier document is the one the device signed; the official code and the receipt
  time intake fixed are put on it before export (the signed document cannot carry them).
- A dossier whose document cannot be read is not exported silently: its id is returned in
  `skipped` for the caller to show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec

from api.register.rows import RegisterRow
from api.reports import aggregate as agg
from api.reports.params import DateRange
from api.reports.schemas import (
    Grouping,
    OverdueReport,
    ResolutionReport,
    TimelinessReport,
    VolumeReport,
)
from dossiers.catalogue import Procedure
from dossiers.errors import DossierError
from dossiers.exports import csv_row, dongbo_hoso, to_csv
from dossiers.models import Dossier
from dossiers.workflow import DossierState

UTF8_BOM = "\ufeff"
_BATCH = 200


@dataclass(frozen=True)
class ExportRecord:
    row: RegisterRow
    dossier: Dossier
    procedure: Procedure
    state: DossierState


@dataclass(frozen=True)
class Export:
    records: list[ExportRecord]
    skipped: list[str]

    @property
    def dossier_ids(self) -> list[str]:
        return [r.row.dossier_id for r in self.records]


class Reports:
    """Report and export queries over one server's register, central database and users."""

    def __init__(self, services: Any) -> None:
        self.register = services.register
        self.central = services.central
        self.auth = services.auth

    def today(self) -> dt.date:
        today: dt.date = self.register.today()
        return today

    def labels(self) -> agg.Labels:
        return agg.Labels(officers={u.username: u.full_name for u in self.auth.users()})

    def _rows(self, start: dt.date | None, end: dt.date | None,
              today: dt.date) -> list[RegisterRow]:
        self.register.catch_up()
        rows: list[RegisterRow] = self.register.rows(start, end, today)
        return rows

    # --- reports ------------------------------------------------------------------------

    def timeliness(self, by: Grouping, period: DateRange) -> TimelinessReport:
        today = self.today()
        lines, total = agg.timeliness(self._rows(period.start, period.end, today), by,
                                      self.labels())
        return TimelinessReport(by=by, received_from=period.start, received_to=period.end,
                                as_of=today, lines=lines, total=total)

    def volumes(self, by: Grouping, period: DateRange) -> VolumeReport:
        today = self.today()
        lines, total = agg.volumes(self._rows(period.start, period.end, today), by,
                                   self.labels())
        return VolumeReport(by=by, received_from=period.start, received_to=period.end,
                            as_of=today, lines=lines, total=total)

    def resolution_time(self, by: Grouping, period: DateRange) -> ResolutionReport:
        today = self.today()
        rows = self._rows(period.start, period.end, today)
        lines, total = agg.resolution_time(rows, by, self.labels(), self.register.calendar)
        return ResolutionReport(by=by, received_from=period.start, received_to=period.end,
                                as_of=today, lines=lines, total=total)

    def overdue(self, start: dt.date | None, end: dt.date | None) -> OverdueReport:
        today = self.today()
        items = agg.overdue(self._rows(start, end, today), today, self.labels(),
                            self.register.calendar)
        return OverdueReport(as_of=today, received_from=start, received_to=end,
                             count=len(items), items=items)

    # --- exports ------------------------------------------------------------------------

    def export(self, period: DateRange) -> Export:
        """The received dossiers of the period with their documents and folded states."""
        rows = [r for r in self._rows(period.start, period.end, self.today())
                if agg.received(r)]
        records: list[ExportRecord] = []
        skipped: list[str] = []
        for row, doc in self._documents(rows):
            record = self._record(row, doc)
            if record is None:
                skipped.append(row.dossier_id)
            else:
                records.append(record)
        return Export(records, skipped)

    def _documents(self, rows: list[RegisterRow]
                   ) -> Iterator[tuple[RegisterRow, dict[str, Any] | None]]:
        for i in range(0, len(rows), _BATCH):
            batch = rows[i:i + _BATCH]
            found = self.central.all_docs(keys=[r.dossier_id for r in batch],
                                          include_docs=True)["rows"]
            docs = {item.get("key"): item.get("doc") for item in found}
            for row in batch:
                yield row, docs.get(row.dossier_id)

    def _record(self, row: RegisterRow, doc: dict[str, Any] | None) -> ExportRecord | None:
        state: DossierState | None = self.register.state(row.dossier_id)
        if doc is None or state is None or state.status is None:
            return None
        body = {k: v for k, v in doc.items() if not k.startswith("_")}
        try:
            dossier = msgspec.convert(body, Dossier, strict=False)
            procedure = self.register.catalogue.get(dossier.procedure_code)
        except (msgspec.ValidationError, DossierError):
            return None
        dossier = msgspec.structs.replace(
            dossier, official_code=row.official_code or dossier.official_code,
            received_at=state.received_at or dossier.received_at)
        return ExportRecord(row, dossier, procedure, state)

    def csv(self, export: Export) -> str:
        """The export as CSV text, starting with a BOM so Excel reads it as UTF-8."""
        as_of = self.register.clock()
        rows = [csv_row(r.dossier, r.procedure, r.state, as_of=as_of) for r in export.records]
        return UTF8_BOM + to_csv(rows)

    @staticmethod
    def dongbo(export: Export) -> list[dict[str, Any]]:
        return [dongbo_hoso(r.dossier, r.procedure, r.state) for r in export.records]
