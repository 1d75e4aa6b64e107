"""/health (storage reachable, each worker's backlog and last error) and /metrics."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import Request, Response, get
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.services import Services


def _health(services: Services) -> tuple[int, dict[str, Any]]:
    report: dict[str, Any] = {"status": "ok"}
    try:
        info = services.central.info()
        report["storage"] = {"reachable": True, "update_seq": info["update_seq"],
                             "backend": "couchdb" if services.settings.server.couchdb_url
                             else "embedded"}
    except Exception as exc:  # the point of /health is to report it, not to fail on it
        report["storage"] = {"reachable": False, "error": f"{type(exc).__name__}: {exc}"}
        report["status"] = "unavailable"
    health = services.follower.health
    report["workers"] = {"access_index": {"backlog": health.backlog,
                                          "indexed_seq": health.indexed_seq,
                                          "last_error": health.last_error,
                                          "last_error_at": health.last_error_at}}
    services.metrics.backlog.labels("access_index").set(health.backlog)
    return (200 if report["status"] == "ok" else 503), report


@get("/health", summary="Storage and workers' state", tags=["system"])
async def health(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    status, report = await anyio.to_thread.run_sync(_health, request.app.state.services)
    return Response(report, status_code=status)


@get("/metrics", summary="Prometheus metrics", tags=["system"], include_in_schema=False)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    services: Services = request.app.state.services
    health = services.follower.health
    services.metrics.backlog.labels("access_index").set(health.backlog)
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)


ROUTES = [health, metrics]
