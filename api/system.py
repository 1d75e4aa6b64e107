"""/health (storage reachable, each worker's backlog and last error) and /metrics."""

from __future__ import annotations

import datetime as dt
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
    if services.intake is not None:
        report["workers"]["intake"] = _intake_health(services)
    else:  # say so, rather than hide that dossiers are not being taken in
        report["workers"]["intake"] = {"running": False, "reason": "no district PKI or "
                                       "DOORSTEP_PKI_PASSPHRASE on this server"}
    return (200 if report["status"] == "ok" else 503), report


def _intake_health(services: Services) -> dict[str, Any]:
    """The intake worker's figures, also copied into the Prometheus gauges."""
    health = services.intake.health
    metrics = services.metrics
    metrics.backlog.labels("intake").set(health.backlog)
    metrics.intake_outcomes.labels("received").set(health.processed)
    metrics.intake_outcomes.labels("needs_attention").set(health.needs_attention)
    at = health.last_error_at
    age = health.oldest_pending_age_seconds  # read once: it is counted at each read
    metrics.intake_oldest.set(age)
    metrics.intake_errors.set(dt.datetime.fromisoformat(at).timestamp() if at else 0)
    metrics.intake_oldest_seq.set(health.oldest_pending_seq or 0)
    metrics.intake_checkpoint.set(health.checkpoint_seq)
    metrics.intake_error_count.set(health.errors)
    return {"running": True, "backlog": health.backlog, "checkpoint_seq": health.checkpoint_seq,
            "oldest_pending_seq": health.oldest_pending_seq,
            "oldest_pending_age_seconds": round(age, 3),
            "processed": health.processed, "needs_attention": health.needs_attention,
            "errors": health.errors, "last_error": health.last_error, "last_error_at": at}


@get("/health", summary="Storage and workers' state", tags=["system"])
async def health(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    status, report = await anyio.to_thread.run_sync(_health, request.app.state.services)
    return Response(report, status_code=status)


@get("/metrics", summary="Prometheus metrics", tags=["system"], include_in_schema=False)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    services: Services = request.app.state.services
    health = services.follower.health
    services.metrics.backlog.labels("access_index").set(health.backlog)
    if services.intake is not None:
        _intake_health(services)
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)


ROUTES = [health, metrics]
