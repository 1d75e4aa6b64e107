"""Users and devices as typed documents in the server's `doorstep_auth` database.

A user's principals (what the gateway matches against a document's `access`) follow from
the role: an officer sees `officer:<username>` and the `reference` documents; back-office
roles see their wards. Passwords are stored only as argon2id hashes.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

import msgspec

Role = Literal["officer", "handler", "supervisor", "admin"]
ROLES: tuple[str, ...] = ("officer", "handler", "supervisor", "admin")
REFERENCE_PRINCIPAL = "reference"
AUTH_DB = "doorstep_auth"


class UserRecord(msgspec.Struct, kw_only=True):
    username: str
    full_name: str
    role: Role
    password_hash: str
    wards: tuple[str, ...] = ()
    disabled: bool = False
    failed_logins: int = 0
    locked_until: float = 0.0
    type: str = "user"
    schema: int = 1

    @property
    def doc_id(self) -> str:
        return user_doc_id(self.username)

    def principals(self) -> tuple[str, ...]:
        if self.role == "officer":
            return (f"officer:{self.username}", REFERENCE_PRINCIPAL)
        return (*(f"ward:{w}" for w in self.wards), REFERENCE_PRINCIPAL)


class DeviceRecord(msgspec.Struct, kw_only=True):
    device_id: str
    username: str
    revoked: bool = False
    certificate_serial: str | None = None
    certificate_pem: str | None = None
    last_seen: float = 0.0
    clock_skew_seconds: float | None = None
    type: str = "device"
    schema: int = 1


class RefreshRecord(msgspec.Struct, kw_only=True):
    username: str
    device_id: str
    expires_at: float
    type: str = "refresh_token"
    schema: int = 1


def user_doc_id(username: str) -> str:
    return f"user:{username}"


def device_doc_id(device_id: str) -> str:
    return f"device:{device_id}"


def refresh_doc_id(token_hash: str) -> str:
    return f"refresh:{token_hash}"


def to_doc(record: msgspec.Struct, doc_id: str, rev: str | None) -> dict[str, Any]:
    doc: dict[str, Any] = msgspec.to_builtins(record)
    doc["_id"] = doc_id
    if rev is not None:
        doc["_rev"] = rev
    return doc


T = TypeVar("T", bound=msgspec.Struct)


def from_doc(doc: dict[str, Any], kind: type[T]) -> tuple[T, str]:
    body = {k: v for k, v in doc.items() if not k.startswith("_")}
    return msgspec.convert(body, kind), str(doc["_rev"])
