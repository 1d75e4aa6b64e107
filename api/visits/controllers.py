"""Visit routes for handlers and supervisors: thin, each hands its work to `VisitService`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVarTuple, cast

import anyio.to_thread
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from api.auth.controllers import current_identity, require
from api.auth.service import Identity
from api.errors import InvalidInput
from api.visits import decisions
from api.visits.schemas import Assign, Cancel, NewVisit, Schedule, VisitList, VisitView, decode_body
from api.visits.service import VisitFilter, VisitService
from dossiers.models import Visit, VisitStatus

ROLES = ("handler", "supervisor")
_PARAMETERS = ("officer", "status", "from", "to")
Args = TypeVarTuple("Args")


def _service(request: Request[Any, Any, Any]) -> VisitService:
    service: VisitService = request.app.state.services.visits
    return service


async def visit_caller(request: Request[Any, Any, Any]) -> Identity:
    return require(await current_identity(request), *ROLES)


def _date_param(name: str, text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"Tham số '{name}' không hợp lệ: cần ngày dạng YYYY-MM-DD.") from None


def _filter(request: Request[Any, Any, Any]) -> VisitFilter:
    params: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name not in _PARAMETERS:
            raise InvalidInput(f"Tham số '{name}' không hợp lệ: không có tham số này "
                               f"(dùng: {', '.join(_PARAMETERS)}).")
        if name in params:
            raise InvalidInput(f"Tham số '{name}' không hợp lệ: chỉ được cho một lần.")
        params[name] = value
    status = params.get("status") or None
    if status not in (None, "planned", "cancelled"):
        raise InvalidInput("Tham số 'status' không hợp lệ: dùng planned hoặc cancelled.")
    wanted = VisitFilter(officer=params.get("officer") or None,
                         status=cast("VisitStatus | None", status),
                         planned_from=_date_param("from", params.get("from")),
                         planned_to=_date_param("to", params.get("to")))
    if wanted.planned_from and wanted.planned_to and wanted.planned_from > wanted.planned_to:
        raise InvalidInput("Tham số 'to' không hợp lệ: ngày kết thúc trước ngày bắt đầu.")
    return wanted


async def _answer(act: Callable[[*Args], Visit], *args: *Args) -> VisitView:
    """Run one `VisitService` call (it reads, decides, writes and audits) in a worker
    thread and answer with the visit it returns."""
    return decisions.view(await anyio.to_thread.run_sync(act, *args))


class VisitController(Controller):
    path = "/api/visits"
    tags = ("visits",)
    dependencies = {"identity": Provide(visit_caller)}  # noqa: RUF012 - Litestar's field

    @post("/", status_code=201, summary="Plan a home visit for a citizen, given to an officer")
    async def create(self, request: Request[Any, Any, Any], identity: NamedDependency[Identity],
                     data: JSONBody[dict[str, Any]]) -> VisitView:
        body = decode_body(data, NewVisit)
        return await _answer(_service(request).create, identity, body)

    @get("/", summary="Visits, by planned date; filter by officer, status, from, to")
    async def search(self, request: Request[Any, Any, Any],
                     identity: NamedDependency[Identity]) -> VisitList:
        wanted = _filter(request)
        visits = await anyio.to_thread.run_sync(_service(request).search, identity, wanted)
        return VisitList([decisions.view(v) for v in visits])

    @get("/{visit_id:str}", summary="One visit")
    async def read(self, request: Request[Any, Any, Any], identity: NamedDependency[Identity],
                   visit_id: FromPath[str]) -> VisitView:
        return await _answer(_service(request).get, identity, visit_id)

    @post("/{visit_id:str}/schedule", status_code=200, summary="Move a visit to another day")
    async def schedule(self, request: Request[Any, Any, Any],
                       identity: NamedDependency[Identity], visit_id: FromPath[str],
                       data: JSONBody[dict[str, Any]]) -> VisitView:
        body = decode_body(data, Schedule)
        return await _answer(_service(request).schedule, identity, visit_id, body.planned_date)

    @post("/{visit_id:str}/assign", status_code=200,
          summary="Give a visit to another officer (it leaves the first officer's device)")
    async def assign(self, request: Request[Any, Any, Any], identity: NamedDependency[Identity],
                     visit_id: FromPath[str], data: JSONBody[dict[str, Any]]) -> VisitView:
        body = decode_body(data, Assign)
        return await _answer(_service(request).assign, identity, visit_id, body.officer_id)

    @post("/{visit_id:str}/cancel", status_code=200,
          summary="Cancel a visit with a reason (it stays on the device, marked cancelled)")
    async def cancel(self, request: Request[Any, Any, Any], identity: NamedDependency[Identity],
                     visit_id: FromPath[str], data: JSONBody[dict[str, Any]]) -> VisitView:
        body = decode_body(data, Cancel)
        return await _answer(_service(request).cancel, identity, visit_id, body.reason)


ROUTES = [VisitController]
