"""The server's errors: one base class; each carries its HTTP status and a Vietnamese message.

`api.problems` is the one place that turns these (and `sync.errors`, `dossiers.errors`)
into HTTP answers: RFC 9457 problem details under /api, CouchDB `{"error", "reason"}`
under /sync. `wipe` asks a device to erase its store (revoked device, disabled user).
"""

from __future__ import annotations

from typing import ClassVar


class ApiError(Exception):
    """Base of every error the server raises on purpose."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, message: str, *, wipe: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.wipe = wipe


class InvalidInput(ApiError):
    status = 400
    code = "bad_request"


class NotAuthenticated(ApiError):
    status = 401
    code = "unauthorized"


class NotAllowed(ApiError):
    status = 403
    code = "forbidden"


class NotFoundError(ApiError):
    status = 404
    code = "not_found"


class ConflictError(ApiError):
    status = 409
    code = "conflict"


class TooLargeError(ApiError):
    status = 413
    code = "too_large"


class UnsupportedMedia(ApiError):
    status = 415
    code = "bad_content_type"


class LockedOut(ApiError):
    status = 429
    code = "locked_out"


class SettingsError(Exception):
    """The server's configuration is invalid; the message names the setting and the fix."""
