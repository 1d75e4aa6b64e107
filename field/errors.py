"""Errors raised by `field`: one base class, each carrying a Vietnamese message for people.

The command line shows `message` as it is and exits with status 2 (bad input); `field`
names the part of the dossier at fault where one is, so another front end can point at it.
"""

from __future__ import annotations

import unicodedata


class FieldAgentError(Exception):
    """Base of every error the device agent raises on purpose."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        message = unicodedata.normalize("NFC", message)
        super().__init__(message)
        self.message = message
        self.field = field


class DossierRefused(FieldAgentError):
    """The dossier file cannot be signed: not JSON, not a dossier, or failing validation."""


class AttachmentMissing(FieldAgentError):
    """A file named in the dossier's checklist cannot be read from the attachments folder."""


class DeviceError(FieldAgentError):
    """The device cannot do what was asked: no store, not enrolled, wiped."""


class ServerRefused(FieldAgentError):
    """The server refused the device's credentials or request (the message is the server's)."""


class ServerUnreachable(FieldAgentError):
    """The server could not be reached (no network, TLS failure, repeated 5xx)."""


class WipeOrdered(FieldAgentError):
    """The server answered 401 with `wipe: true`: this device was revoked or its officer
    disabled; the device's store must be erased."""
