"""Request and answer shapes of the auth API (validated by Litestar, documented in OpenAPI)."""

from __future__ import annotations

from typing import Annotated

import msgspec

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Secret = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: Name
    password: Secret
    device_id: Name


class RefreshRequest(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Secret
    device_id: Name


class TokenAnswer(msgspec.Struct):
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the scheme's name, not a secret


class Me(msgspec.Struct):
    username: str
    full_name: str
    role: str
    device_id: str
    principals: list[str]


class NewUser(msgspec.Struct, forbid_unknown_fields=True):
    username: Name
    password: Secret
    role: str
    full_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    wards: list[Name] = []


class EnrollmentRequest(msgspec.Struct, forbid_unknown_fields=True):
    csr_pem: Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]


class Enrollment(msgspec.Struct):
    device_id: str
    serial: str
    certificate_pem: str


class UserView(msgspec.Struct):
    username: str
    full_name: str
    role: str
    disabled: bool
    wards: list[str]


class DeviceView(msgspec.Struct):
    device_id: str
    username: str
    revoked: bool
    last_seen: float
    clock_skew_seconds: float | None
    certificate_serial: str | None
