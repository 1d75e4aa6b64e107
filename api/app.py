"""`create_app()`: the Litestar application, on the storage the settings name.

Storage is opened at start-up (and the access index built) before the first request;
every error becomes an answer in `api.problems`; OpenAPI 3.1 is served at /schema
(the sync gateway is left out: it is the CouchDB protocol, documented by CouchDB).
"""

from __future__ import annotations

import time
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.openapi import OpenAPIConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api import system
from api.audit import controllers as audit_routes
from api.auth import controllers as auth_routes
from api.gateway import controllers as gateway_routes
from api.handling import controllers as handling_routes
from api.problems import error_response
from api.register import controllers as register_routes
from api.reports import controllers as report_routes
from api.services import Services, open_services
from api.settings import Settings, load_settings
from api.visits import controllers as visit_routes


def _metrics_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, sending)
        finally:
            services: Services | None = scope["app"].state.get("services")
            if services is not None:
                route = "/" + scope["path"].split("/")[1]
                method = str(scope.get("method", ""))
                services.metrics.requests.labels(method, route, str(status)).inc()
                services.metrics.latency.labels(route).observe(time.perf_counter() - started)

    return middleware


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Litestar:
    """The server. `services` lets a caller (a test, the demo) open storage itself."""
    settings = settings or load_settings()
    state: dict[str, Any] = {}

    def start(app: Litestar) -> None:
        if "services" not in app.state:
            app.state.services = services or open_services(settings)

    def stop(app: Litestar) -> None:
        opened = app.state.get("services")
        if opened is not None and services is None:
            opened.close()

    if services is not None:
        state["services"] = services
    return Litestar(
        route_handlers=[*system.ROUTES, *auth_routes.ROUTES, *gateway_routes.ROUTES,
                        *audit_routes.ROUTES, *visit_routes.ROUTES, *report_routes.ROUTES,
                        *handling_routes.ROUTES, *register_routes.ROUTES],
        exception_handlers={Exception: error_response},
        middleware=[_metrics_middleware],
        on_startup=[start],
        on_shutdown=[stop],
        state=State(state),
        request_max_body_size=settings.sync.max_request_bytes,
        openapi_config=OpenAPIConfig(title="Doorstep", version="0.1.0", path="/schema",
                                     description="Một cửa tại nhà: back-office API"),
    )
