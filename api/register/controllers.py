"""Dossier list, detail and attachments for handlers and supervisors (thin: the register
and `api.register.detail` do the work). Every read, and every refused attempt, is audited."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import anyio.to_thread
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery

from api.auth.controllers import current_identity, require
from api.auth.service import Identity
from api.errors import NotAllowed, NotFoundError
from api.register.compute import NEEDS_ATTENTION, SUBMITTED
from api.register.detail import detail, find_attachment
from api.register.queries import DossierQuery, parse_query
from api.register.schemas import DossierDetail, DossierList
from api.register.service import Register
from dossiers.workflow import Status

READERS = ("handler", "supervisor")
STATUSES = (*(s.value for s in Status), SUBMITTED, NEEDS_ATTENTION)
# Filters worth keeping in the audit trail; `q` may be a citizen's name: only its presence.
_AUDITED_FILTERS = ("status", "procedure", "officer", "ward", "received_from", "received_to",
                    "due_from", "due_to", "overdue", "due_within_days", "limit")

_DEFAULT = DossierQuery()
Text = FromQuery[str | None]


def _register(request: Request[Any, Any, Any]) -> Register:
    register: Register = request.app.state.services.register
    return register


async def _audit(request: Request[Any, Any, Any], identity: Identity, action: str,
                 dossier_ids: list[str], detail_text: str = "", *, listing: bool = False) -> None:
    audit = request.app.state.services.audit
    await anyio.to_thread.run_sync(
        lambda: audit.record(identity, action, dossier_ids, detail_text, listing=listing))


async def _allowed(request: Request[Any, Any, Any], identity: Identity,
                   dossier_ids: list[str]) -> None:
    try:
        require(identity, *READERS)
    except NotAllowed:
        await _audit(request, identity, "dossier.denied", dossier_ids)
        raise


def _filters_text(query: DossierQuery) -> str:
    parts = []
    for name in _AUDITED_FILTERS:
        value = getattr(query, name)
        if value != getattr(_DEFAULT, name):
            parts.append(f"{name}={','.join(value) if isinstance(value, tuple) else value}")
    if query.text is not None:
        parts.append("q=…")
    return " ".join(parts)


class DossierController(Controller):
    path = "/api/dossiers"
    tags = ("dossiers",)
    dependencies = {"identity": Provide(current_identity)}  # noqa: RUF012 - Litestar's field

    @get("/", summary="List and search dossiers (keyset pages, due date first)",
         description="Filters combine with AND. Order: due date ascending (dossiers without "
                     "one last), then dossier id; `next_cursor` continues the walk. `q` "
                     "matches the applicant's name (accent-insensitive) or identity number; "
                     "`due_within` counts working days from today (Asia/Ho_Chi_Minh).")
    async def list_dossiers(
        self, request: Request[Any, Any, Any], identity: NamedDependency[Identity],
        status: FromQuery[list[str] | None] = None,
        procedure: Text = None, officer: Text = None, ward: Text = None,
        received_from: Text = None, received_to: Text = None, due_from: Text = None,
        due_to: Text = None, overdue: Text = None, due_within: Text = None, q: Text = None,
        cursor: Text = None, limit: Text = None,
    ) -> DossierList:
        await _allowed(request, identity, [])
        # One parser for every parameter, so each error names the parameter in Vietnamese.
        query = parse_query(request.query_params.multi_items(), STATUSES)
        register = _register(request)
        page = await anyio.to_thread.run_sync(
            lambda: register.search(query, register.today()))
        # One entry holding the page's ids (no per-dossier pointers: see api.audit.entries).
        await _audit(request, identity, "dossier.list", [r.dossier_id for r in page.rows],
                     _filters_text(query), listing=True)
        return DossierList(items=page.rows, next_cursor=page.next_cursor)

    @get("/{dossier_id:str}", summary="One dossier: row, data, events, attachments, intake "
                                      "report, result and the caller's allowed actions")
    async def read(self, request: Request[Any, Any, Any], identity: NamedDependency[Identity],
                   dossier_id: FromPath[str]) -> DossierDetail:
        await _allowed(request, identity, [dossier_id])
        register = _register(request)

        def load() -> DossierDetail | None:
            docs, row = register.docs(dossier_id), register.row(dossier_id)
            if docs is None or row is None:
                return None
            folded = register.folded(dossier_id)
            assert folded is not None  # the docs were there a moment ago
            return detail(row, docs, folded, identity.role)

        found = await anyio.to_thread.run_sync(load)
        if found is None:
            raise NotFoundError(f"Không có hồ sơ «{dossier_id}».")
        await _audit(request, identity, "dossier.read", [dossier_id])
        return found

    @get("/{dossier_id:str}/attachments/{name:str}", media_type="application/octet-stream",
         summary="One attachment of a dossier, its intake outcome, result or events")
    async def attachment(self, request: Request[Any, Any, Any],
                         identity: NamedDependency[Identity], dossier_id: FromPath[str],
                         name: FromPath[str]) -> Response[bytes]:
        await _allowed(request, identity, [dossier_id])
        services = request.app.state.services

        def load() -> tuple[str, bytes] | None:
            docs = services.register.docs(dossier_id)
            where = find_attachment(docs, name) if docs is not None else None
            if where is None:
                return None
            reader = services.central.attachment(*where)
            return str(reader.content_type), bytes(reader.read())

        found = await anyio.to_thread.run_sync(load)
        if found is None:
            raise NotFoundError(f"Hồ sơ «{dossier_id}» không có tệp «{name}».")
        await _audit(request, identity, "attachment.read", [dossier_id], name)
        content_type, data = found
        disposition = f"inline; filename*=UTF-8''{quote(name)}"
        return Response(data, media_type=content_type,
                        headers={"Content-Disposition": disposition})


ROUTES = [DossierController]
