"""Auth and administration routes: thin, each hands its work to `AuthService`."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from api.auth.enrollment import enroll
from api.auth.revocation import revoke_device
from api.auth.schemas import (
    DeviceView,
    Enrollment,
    EnrollmentRequest,
    Me,
    NewUser,
    RefreshRequest,
    TokenAnswer,
    TokenRequest,
    UserView,
)
from api.auth.service import AuthService, Identity
from api.errors import NotAllowed


def _auth(request: Request[Any, Any, Any]) -> AuthService:
    service: AuthService = request.app.state.services.auth
    return service


async def current_identity(request: Request[Any, Any, Any]) -> Identity:
    """The caller, from the bearer token; refuses disabled users and revoked devices."""
    auth = _auth(request)
    header = request.headers.get("authorization")
    identity: Identity = await anyio.to_thread.run_sync(auth.authenticate, header)
    return identity


def require(identity: Identity, *roles: str) -> Identity:
    if identity.role not in roles:
        raise NotAllowed(f"Chức năng này dành cho vai trò: {', '.join(roles)}.")
    return identity


class TokenController(Controller):
    path = "/api/auth"
    tags = ("auth",)

    @post("/token", status_code=200, summary="Log in from a device: access and refresh tokens")
    async def token(
        self, request: Request[Any, Any, Any], data: JSONBody[TokenRequest]
    ) -> TokenAnswer:
        auth = _auth(request)
        pair = await anyio.to_thread.run_sync(auth.login, data.username, data.password,
                                              data.device_id)
        return TokenAnswer(pair.access_token, pair.refresh_token, pair.expires_in)

    @post("/refresh", status_code=200, summary="A new token pair from a refresh token")
    async def refresh(
        self, request: Request[Any, Any, Any], data: JSONBody[RefreshRequest]
    ) -> TokenAnswer:
        auth = _auth(request)
        pair = await anyio.to_thread.run_sync(auth.refresh, data.refresh_token, data.device_id)
        return TokenAnswer(pair.access_token, pair.refresh_token, pair.expires_in)

    @post("/enroll", status_code=201, summary="Enroll this device: a CSR in, a certificate out",
          dependencies={"identity": Provide(current_identity)})
    async def enroll(self, request: Request[Any, Any, Any], identity: NamedDependency[Identity],
                     data: JSONBody[EnrollmentRequest]) -> Enrollment:
        services = request.app.state.services
        serial, pem = await anyio.to_thread.run_sync(
            lambda: enroll(services.auth, services.settings.server.data_dir / "pki",
                           services.pki_passphrase, identity, data.csr_pem))
        return Enrollment(identity.device_id, serial, pem)

    @get("/me", summary="Who the bearer token belongs to",
         dependencies={"identity": Provide(current_identity)})
    async def me(self, request: Request[Any, Any, Any], identity: NamedDependency[Identity]) -> Me:
        found = await anyio.to_thread.run_sync(_auth(request).user, identity.username)
        full_name = found[0].full_name if found else ""
        return Me(identity.username, full_name, identity.role, identity.device_id,
                  list(identity.principals))


class AdminController(Controller):
    path = "/api/admin"
    tags = ("administration",)
    dependencies = {"identity": Provide(current_identity)}  # noqa: RUF012 - Litestar's field

    @get("/users", summary="All users")
    async def users(
        self, request: Request[Any, Any, Any], identity: NamedDependency[Identity]
    ) -> list[UserView]:
        require(identity, "admin", "supervisor")
        users = await anyio.to_thread.run_sync(_auth(request).users)
        return [UserView(u.username, u.full_name, u.role, u.disabled, list(u.wards))
                for u in users]

    @post("/users", summary="Create a user")
    async def create_user(self, request: Request[Any, Any, Any],
                          identity: NamedDependency[Identity],
                          data: JSONBody[NewUser]) -> UserView:
        require(identity, "admin")
        auth = _auth(request)
        user = await anyio.to_thread.run_sync(
            lambda: auth.create_user(data.username, data.password, data.role, data.full_name,
                                     tuple(data.wards)))
        return UserView(user.username, user.full_name, user.role, user.disabled,
                        list(user.wards))

    @post("/users/{username:str}/disable", status_code=200, summary="Disable a user")
    async def disable(self, request: Request[Any, Any, Any], identity: NamedDependency[Identity],
                      username: FromPath[str]) -> dict[str, bool]:
        require(identity, "admin")
        await anyio.to_thread.run_sync(_auth(request).set_disabled, username, True)
        return {"ok": True}

    @get("/devices", summary="All enrolled devices")
    async def devices(self, request: Request[Any, Any, Any],
                      identity: NamedDependency[Identity]) -> list[DeviceView]:
        require(identity, "admin", "supervisor")
        devices = await anyio.to_thread.run_sync(_auth(request).devices)
        return [DeviceView(d.device_id, d.username, d.revoked, d.last_seen,
                           d.clock_skew_seconds, d.certificate_serial) for d in devices]

    @post("/devices/{device_id:str}/revoke", status_code=200, summary="Revoke a lost device")
    async def revoke(self, request: Request[Any, Any, Any], identity: NamedDependency[Identity],
                     device_id: FromPath[str]) -> dict[str, bool]:
        require(identity, "admin", "supervisor")
        services = request.app.state.services
        await anyio.to_thread.run_sync(
            lambda: revoke_device(services.auth, services.central,
                                  services.settings.server.data_dir / "pki",
                                  services.pki_passphrase, device_id))
        return {"ok": True}


ROUTES = [TokenController, AdminController]
