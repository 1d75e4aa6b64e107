"""Prometheus metrics: one registry per app, so several apps (tests) never collide."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("doorstep_http_requests", "HTTP requests answered",
                                ["method", "route", "status"], registry=r)
        self.latency = Histogram("doorstep_http_request_seconds", "Time to answer a request",
                                 ["route"], registry=r)
        self.sessions = Counter("doorstep_sync_sessions", "Sync sessions started (database "
                                "info read by a device)", registry=r)
        self.docs = Counter("doorstep_sync_documents", "Documents moved through the gateway",
                            ["direction"], registry=r)
        self.bytes = Counter("doorstep_sync_bytes", "Bytes moved through the gateway",
                             ["direction"], registry=r)
        self.refused = Counter("doorstep_sync_refused_documents",
                               "Documents a device sent that validation refused", registry=r)
        self.errors = Counter("doorstep_errors", "Error answers", ["status"], registry=r)
        self.intake_oldest = Gauge("doorstep_intake_oldest_pending_seconds",
                                   "How long the oldest unprocessed change has waited",
                                   registry=r)
        self.intake_outcomes = Gauge("doorstep_intake_dossiers", "Dossiers intake handled "
                                     "since start", ["outcome"], registry=r)
        self.intake_errors = Gauge("doorstep_intake_last_error_timestamp",
                                   "Unix time of the intake worker's last error (0: none)",
                                   registry=r)
        self.intake_oldest_seq = Gauge("doorstep_intake_oldest_pending_seq",
                                       "Sequence of the oldest unprocessed change (0: none)",
                                       registry=r)
        self.intake_checkpoint = Gauge("doorstep_intake_checkpoint_seq",
                                       "Sequence up to which intake has done every change",
                                       registry=r)
        self.intake_error_count = Gauge("doorstep_intake_errors", "Failures the intake worker "
                                        "met since start (each retried or set aside)", registry=r)
        self.backlog = Gauge("doorstep_worker_backlog", "Changes a worker has still to read",
                             ["worker"], registry=r)
