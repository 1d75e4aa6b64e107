"""The document engine's errors: one class per CouchDB error, each with a reason to act on.

Every error carries the CouchDB `error` name and HTTP status it maps onto, so the HTTP
layer translates them in one place (`{"error": …, "reason": …}` on the sync routes,
problem details elsewhere) and a local caller can catch them by kind.
"""

from __future__ import annotations

from typing import ClassVar


class DocumentError(Exception):
    """Base of every error the document engine raises on purpose."""

    error: ClassVar[str] = "unknown_error"
    status: ClassVar[int] = 500

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def as_json(self) -> dict[str, str]:
        return {"error": self.error, "reason": self.reason}


class BadRequest(DocumentError):
    """The request itself is malformed: bad JSON, a bad rev, a bad id, a bad option."""

    error = "bad_request"
    status = 400


class Unauthorized(DocumentError):
    """No valid credentials, or the key that opens an encrypted database is wrong."""

    error = "unauthorized"
    status = 401


class Forbidden(DocumentError):
    """The caller is known but may not do this (validation refused the write)."""

    error = "forbidden"
    status = 403


class NotFound(DocumentError):
    """No such database, document, revision or attachment (or it is deleted)."""

    error = "not_found"
    status = 404


class Conflict(DocumentError):
    """The edit is based on a revision that is not the current leaf: update conflict."""

    error = "conflict"
    status = 409


class FileExists(DocumentError):
    """The database to create already exists."""

    error = "file_exists"
    status = 412


class MissingStub(DocumentError):
    """An attachment stub names data the database does not hold."""

    error = "missing_stub"
    status = 412


class TooLarge(DocumentError):
    """A document, attachment or request is over its size limit."""

    error = "too_large"
    status = 413


class PeerUnavailable(DocumentError):
    """A replication peer could not be reached, or kept failing (5xx) after the retries."""

    error = "peer_unavailable"
    status = 503


class PeerProtocolError(DocumentError):
    """A replication peer answered with something the CouchDB protocol does not allow."""

    error = "bad_peer_response"
    status = 502


class NotSupported(DocumentError):
    """The peer lacks an optional endpoint (e.g. `_bulk_get`); the caller falls back."""

    error = "not_supported"
    status = 501


ALL_ERRORS: tuple[type[DocumentError], ...] = (
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    FileExists,
    MissingStub,
    TooLarge,
    PeerUnavailable,
    PeerProtocolError,
    NotSupported,
)

_BY_NAME: dict[str, type[DocumentError]] = {kind.error: kind for kind in ALL_ERRORS}
_BY_STATUS: dict[int, type[DocumentError]] = {
    kind.status: kind
    for kind in (BadRequest, Unauthorized, Forbidden, NotFound, Conflict, TooLarge)
}


def named(error: str) -> type[DocumentError] | None:
    """The error class whose CouchDB name is `error`, if any."""
    return _BY_NAME.get(error)


def from_answer(
    status: int, error: str, reason: str, *, otherwise: type[DocumentError] = PeerProtocolError
) -> DocumentError:
    """The error a CouchDB-protocol answer stands for: its HTTP status decides, and 412's
    two meanings are told apart by the `error` name; an unexpected status is `otherwise`."""
    if status == 412:
        return MissingStub(reason) if error == "missing_stub" else FileExists(reason)
    return _BY_STATUS.get(status, otherwise)(reason)
