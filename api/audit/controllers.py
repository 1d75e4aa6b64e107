"""`GET /api/audit`: the audit log for supervisors and administrators (itself audited)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

import anyio.to_thread
from litestar import Controller, Request, get
from litestar.di import NamedDependency, Provide

from api.audit.log import AuditLog, AuditPage
from api.audit.queries import parse_query
from api.auth.controllers import current_identity, require
from api.auth.service import Identity
from api.errors import InvalidInput, NotAllowed

READERS = ("supervisor", "admin")


def audit_log(request: Request[Any, Any, Any]) -> AuditLog:
    log: AuditLog = request.app.state.services.audit
    return log


def _single_values(request: Request[Any, Any, Any]) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name in params:
            raise InvalidInput(f"Tham số '{name}' không hợp lệ: chỉ được cho một lần.")
        params[name] = value
    return params


class AuditController(Controller):
    path = "/api/audit"
    tags = ("audit",)
    dependencies = {"identity": Provide(current_identity)}  # noqa: RUF012 - Litestar's field

    @get("/", summary="Audit entries, oldest first; filter by actor, dossier, action, from, to",
         description="`dossier` answers the reads and writes OF that dossier. A list page or "
                     "an export is one entry holding every dossier id it showed, found by "
                     "`actor` (and `action`, `from`, `to`), not by `dossier`.")
    async def entries(self, request: Request[Any, Any, Any],
                      identity: NamedDependency[Identity]) -> AuditPage:
        log = audit_log(request)
        try:
            require(identity, *READERS)
        except NotAllowed:
            await anyio.to_thread.run_sync(log.record, identity, "audit.denied", ())
            raise
        params = _single_values(request)
        now = dt.datetime.now(dt.UTC)  # before this read is logged: it does not list itself
        query = parse_query(params, now)
        # The filters are usernames, dossier ids, action names and times: no personal data.
        await anyio.to_thread.run_sync(log.record, identity, "audit.read",
                                       (query.dossier,) if query.dossier else (),
                                       urlencode(sorted(params.items())))
        page: AuditPage = await anyio.to_thread.run_sync(log.query, query, now)
        return page


ROUTES = [AuditController]
