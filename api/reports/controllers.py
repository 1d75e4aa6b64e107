"""Reports and exports routes: thin; parameters are checked by `params`, work is done by
`Reports` in a worker thread. Handlers and supervisors only. Every answer that lists
dossiers (the overdue list, both exports) is written to the audit log before it is sent:
an act that cannot be logged is not served.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter

from api.auth.controllers import current_identity, require
from api.auth.service import Identity
from api.reports import params
from api.reports.schemas import (
    Grouping,
    OverdueReport,
    ResolutionReport,
    TimelinessReport,
    VolumeReport,
)
from api.reports.service import Export, Reports

ROLES = ("handler", "supervisor")
SKIPPED_HEADER = "Doorstep-Skipped-Dossiers"
T = TypeVar("T")

# Optional strings, checked by `params`: its 400 names the parameter in Vietnamese.
From = Annotated[str | None, QueryParameter(
    name="from", required=False, description="First day of receipt, YYYY-MM-DD")]
To = Annotated[str | None, QueryParameter(
    name="to", required=False, description="Last day of receipt, YYYY-MM-DD (inclusive)")]
By = Annotated[str | None, QueryParameter(
    name="by", required=False, description="procedure | officer | ward | month")]


def _reports(request: Request[Any, Any, Any]) -> Reports:
    return Reports(request.app.state.services)


def _audit(request: Request[Any, Any, Any], identity: Identity, action: str,
           dossier_ids: list[str], detail: str) -> None:
    request.app.state.services.audit.record(identity, action, dossier_ids, detail)


async def _grouped(request: Request[Any, Any, Any], identity: Identity,
                   build: Callable[[Reports, Grouping, params.DateRange], T],
                   by: str | None, from_: str | None, to: str | None) -> T:
    """A report grouped `by` over a required range: checked, then built in a thread."""
    require(identity, *ROLES)
    grouping, period = params.grouping(by), params.date_range(from_, to)
    return await anyio.to_thread.run_sync(build, _reports(request), grouping, period)


async def _export(request: Request[Any, Any, Any], identity: Identity, action: str,
                  render: Callable[[Reports, Export], T], from_: str | None,
                  to: str | None) -> tuple[params.DateRange, T, Export]:
    """The dossiers received in a required range, rendered, and audited as `action`
    before anything is sent."""
    require(identity, *ROLES)
    period = params.date_range(from_, to)
    reports = _reports(request)

    def work() -> tuple[T, Export]:
        export = reports.export(period)
        rendered = render(reports, export)
        _audit(request, identity, action, export.dossier_ids, _detail(period, export))
        return rendered, export

    rendered, export = await anyio.to_thread.run_sync(work)
    return period, rendered, export


class ReportController(Controller):
    path = "/api/reports"
    tags = ("reports",)
    dependencies = {"identity": Provide(current_identity)}  # noqa: RUF012 - Litestar's field

    @get("/timeliness", summary="Early / on-time / late counts and rates per group (index 766)")
    async def timeliness(self, request: Request[Any, Any, Any],
                         identity: NamedDependency[Identity], by: By = None,
                         from_: From = None, to: To = None) -> TimelinessReport:
        return await _grouped(request, identity, Reports.timeliness, by, from_, to)

    @get("/volumes", summary="Dossiers received, finished, in progress, needing attention")
    async def volumes(self, request: Request[Any, Any, Any],
                      identity: NamedDependency[Identity], by: By = None,
                      from_: From = None, to: To = None) -> VolumeReport:
        return await _grouped(request, identity, Reports.volumes, by, from_, to)

    @get("/resolution-time", summary="Average working days from receipt to resolution")
    async def resolution_time(self, request: Request[Any, Any, Any],
                              identity: NamedDependency[Identity], by: By = None,
                              from_: From = None, to: To = None) -> ResolutionReport:
        return await _grouped(request, identity, Reports.resolution_time, by, from_, to)

    @get("/overdue", summary="Unfinished dossiers past their appointment date, oldest first")
    async def overdue(self, request: Request[Any, Any, Any],
                      identity: NamedDependency[Identity],
                      from_: From = None, to: To = None) -> OverdueReport:
        require(identity, *ROLES)
        start, end = params.optional_range(from_, to)
        reports = _reports(request)

        def work() -> OverdueReport:
            report = reports.overdue(start, end)
            _audit(request, identity, "report.overdue",
                   [item.dossier_id for item in report.items],
                   f"from={start or ''} to={end or ''} as_of={report.as_of}")
            return report

        return await anyio.to_thread.run_sync(work)


class ExportController(Controller):
    path = "/api/exports"
    tags = ("exports",)
    dependencies = {"identity": Provide(current_identity)}  # noqa: RUF012 - Litestar's field

    @get("/dossiers.csv", summary="Dossiers received in a date range, as CSV (UTF-8, BOM)")
    async def dossiers_csv(self, request: Request[Any, Any, Any],
                           identity: NamedDependency[Identity],
                           from_: From = None, to: To = None) -> Response[bytes]:
        period, text, export = await _export(request, identity, "export.csv", Reports.csv,
                                             from_, to)
        name = f"ho-so_{period.start:%Y-%m-%d}_{period.end:%Y-%m-%d}.csv"
        return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"',
                                 SKIPPED_HEADER: str(len(export.skipped))})

    @get("/dongbo", summary="The national portal's DongBoHoSoMC records for a date range")
    async def dongbo(self, request: Request[Any, Any, Any],
                     identity: NamedDependency[Identity],
                     from_: From = None, to: To = None) -> Response[list[dict[str, Any]]]:
        _, records, export = await _export(request, identity, "export.dongbo",
                                           lambda reports, export: reports.dongbo(export),
                                           from_, to)
        return Response(records, media_type="application/json",
                        headers={SKIPPED_HEADER: str(len(export.skipped))})


def _detail(period: params.DateRange, export: Export) -> str:
    detail = f"from={period.start} to={period.end} dossiers={len(export.records)}"
    if export.skipped:
        detail += f" skipped={len(export.skipped)}"
    return detail


ROUTES = [ReportController, ExportController]
