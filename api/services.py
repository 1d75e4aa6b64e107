"""The server's long-lived parts, opened once at start and closed at shutdown.

`open_services` opens storage (the embedded store in the data directory, or CouchDB),
the auth database, the access index (built from the central changes feed before the
first request is served) and the gateway.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

from api.audit import open_audit
from api.auth.service import AuthService
from api.auth.tokens import TokenIssuer, load_or_create_secret
from api.auth.users import AUTH_DB
from api.gateway.access_index import AccessIndex, IndexFollower
from api.gateway.service import Gateway, SeqTokens
from api.gateway.validation import WriteLimits
from api.metrics import Metrics
from api.register.service import Register
from api.settings import Settings
from api.visits import VisitService
from sync.store import Limits, Store

CENTRAL_DB = "doorstep"


@dataclass
class Services:
    settings: Settings
    storage: Any
    central: Any
    auth_db: Any
    auth: AuthService
    follower: IndexFollower
    gateway: Gateway
    metrics: Metrics
    server_uuid: str
    pki_passphrase: bytes | None = None
    intake: Any = None  # api.intake.worker.IntakeWorker once started
    audit: Any = None  # api.audit.AuditLog: its own database, never synced
    visits: Any = None  # api.visits.VisitService
    register: Any = None  # api.register.Register: the dossiers' read model (SQLite)

    def start_intake(self) -> bool:
        """Start the intake worker on the district PKI, if the server has one to use."""
        from api.intake.cli import worker_for

        if self.intake is None:
            self.intake = worker_for(self.central, self.settings.server.data_dir,
                                     self.pki_passphrase)
            if self.intake is not None:
                self.intake.start()
        return self.intake is not None

    def close(self) -> None:
        if self.intake is not None:
            self.intake.stop()
        self.follower.stop()
        if self.register is not None:
            self.register.close()
        for db in (self.central, self.auth_db, getattr(self.audit, "db", None)):
            close = getattr(db, "close", None)
            if close is not None:
                close()
        close_storage = getattr(self.storage, "close", None)
        if close_storage is not None:
            close_storage()


def _open_storage(settings: Settings) -> Any:
    if settings.server.couchdb_url:
        from sync.couchdb import CouchServer

        return CouchServer(settings.server.couchdb_url)
    settings.server.data_dir.mkdir(parents=True, exist_ok=True)
    limits = Limits(max_document_bytes=settings.sync.max_document_bytes,
                    max_attachment_bytes=settings.sync.max_attachment_bytes)
    return Store(settings.server.data_dir / "db", limits=limits)


def _open_register(settings: Settings, central: Any) -> Register:
    # The register remembers which central database it was built from (hashed: the URL
    # may carry credentials) and rebuilds when pointed at another one.
    where = f"{settings.server.couchdb_url or 'embedded'}|{settings.server.db_prefix}{CENTRAL_DB}"
    settings.server.data_dir.mkdir(parents=True, exist_ok=True)
    return Register.open(central, settings.server.data_dir,
                         source=hashlib.sha256(where.encode()).hexdigest()[:16])


def open_services(settings: Settings, *, follow: bool = True) -> Services:
    storage = _open_storage(settings)
    prefix = settings.server.db_prefix
    central = storage.open(prefix + CENTRAL_DB, create=True)
    auth_db = storage.open(prefix + AUTH_DB, create=True)
    secret = load_or_create_secret(settings.server.data_dir)
    auth = AuthService(auth_db, TokenIssuer(secret, settings.auth.access_ttl_seconds),
                       settings.auth)
    follower = IndexFollower(central, AccessIndex())
    if follow:
        follower.start()
    else:
        follower.catch_up()
    register = _open_register(settings, central)
    if follow:
        register.start()
    else:
        register.catch_up()
    limits = WriteLimits(settings.sync.max_document_bytes, settings.sync.max_attachment_bytes)
    gateway = Gateway(central, follower, SeqTokens(secret), limits)
    # Stable for a data directory, never revealing the secret it is derived from.
    server_uuid = hashlib.sha256(b"server-uuid\x00" + secret).hexdigest()[:32]
    passphrase = os.environ.get("DOORSTEP_PKI_PASSPHRASE")
    audit = open_audit(storage, prefix)
    return Services(settings, storage, central, auth_db, auth, follower, gateway, Metrics(),
                    server_uuid, passphrase.encode() if passphrase else None,
                    audit=audit, register=register,
                    visits=VisitService(central, auth, follower, audit))
