"""The device's conversation with the server's auth API: log in, refresh, enroll.

Guarantees:
- TLS is always verified (the system's roots, or a CA file the district gives); nothing
  here turns verification off.
- The password is sent once, to `/api/auth/token`, and kept nowhere; the tokens live in
  memory only. No secret appears in an error message or a log line.
- The access token is refreshed (`/api/auth/refresh`, rotating the refresh token) shortly
  before it expires, and on demand after a 401 from the gateway.
- A 401 answer carrying `wipe: true` — from the auth API or from the gateway, whichever the
  device meets first — becomes `WipeOrdered`; other refusals are `ServerRefused` with the
  server's Vietnamese detail; a network failure is `ServerUnreachable`.
"""

from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
import msgspec

from field.errors import ServerRefused, ServerUnreachable, WipeOrdered

# Refresh this long before the access token's end, so a request never starts on a token
# about to lapse.
REFRESH_MARGIN_SECONDS = 60.0


@dataclass(frozen=True)
class Enrollment:
    device_id: str
    serial: str
    certificate_pem: str


@dataclass
class _Tokens:
    access: str
    refresh: str
    expires_at: float  # time.monotonic() at which the access token lapses
    margin: float  # refresh this long before: a minute, or a quarter of a short lifetime


def tls_context(ca_file: Path | None = None) -> ssl.SSLContext:
    """A verifying TLS context: the system roots, or `ca_file` (a district's private CA)."""
    if ca_file is None:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=str(ca_file))


class WipeWatch(httpx.BaseTransport):
    """A transport that notes a `wipe: true` in any 401 answer passing through it, so the
    replicator's generic `Unauthorized` can be told apart from a revocation; it also stamps
    each request with the device's clock."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner
        self.wipe_reason: str | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        # The device's clock claim: the gateway records its skew at each sync.
        request.headers["X-Device-Time"] = formatdate(usegmt=True)
        response = self._inner.handle_request(request)
        if response.status_code == 401:
            response.read()
            body = _json_or_empty(response.content)
            if body.get("wipe") is True:
                self.wipe_reason = str(body.get("reason") or body.get("detail") or "")
        return response

    def close(self) -> None:
        self._inner.close()


def _json_or_empty(content: bytes) -> dict[str, Any]:
    try:
        data = msgspec.json.decode(content)
    except msgspec.DecodeError:
        return {}
    return data if isinstance(data, dict) else {}


class ServerSession:
    """One officer on one device, talking to one server."""

    def __init__(self, server: str, username: str, device_id: str, *,
                 ca_file: Path | None = None, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        """`transport` replaces the network (a local double in tests); TLS is verified
        either way."""
        self.server = server.rstrip("/")
        if not self.server.startswith(("https://", "http://")):
            raise ServerRefused(f"địa chỉ máy chủ «{server}» phải bắt đầu bằng https://.")
        self.username = username
        self.device_id = device_id
        self._tls = tls_context(ca_file)
        self._transport = transport
        self._client = httpx.Client(base_url=self.server, timeout=timeout, verify=self._tls,
                                    transport=transport)
        self._tokens: _Tokens | None = None
        self._lock = threading.Lock()

    @property
    def sync_url(self) -> str:
        """The officer's virtual database at the gateway."""
        return f"{self.server}/sync/{self.username}"

    def sync_transport(self) -> WipeWatch:
        """A new transport for one replicator HTTP peer (which closes it with itself):
        verifying TLS, watching for a wipe order."""
        return WipeWatch(self._transport or httpx.HTTPTransport(verify=self._tls, retries=2))

    # -- tokens ----------------------------------------------------------------------------

    def login(self, password: str) -> None:
        answer = self._post("/api/auth/token", {"username": self.username,
                                                "password": password,
                                                "device_id": self.device_id})
        self._keep(answer)

    def refresh(self) -> None:
        with self._lock:
            tokens = self._tokens
            if tokens is None:
                raise ServerRefused("chưa đăng nhập: cần đăng nhập trước khi đồng bộ.")
            answer = self._post("/api/auth/refresh", {"refresh_token": tokens.refresh,
                                                      "device_id": self.device_id})
            self._keep(answer)

    def access_token(self) -> str:
        """A token valid for at least `REFRESH_MARGIN_SECONDS` more (refreshed if needed)."""
        tokens = self._tokens
        if tokens is None:
            raise ServerRefused("chưa đăng nhập: cần đăng nhập trước khi đồng bộ.")
        if time.monotonic() > tokens.expires_at - tokens.margin:
            self.refresh()
            assert self._tokens is not None
            tokens = self._tokens
        return tokens.access

    def _keep(self, answer: dict[str, Any]) -> None:
        try:
            access, refresh = str(answer["access_token"]), str(answer["refresh_token"])
            lifetime = float(answer.get("expires_in", 0))
        except (KeyError, TypeError, ValueError) as exc:
            raise ServerRefused("máy chủ trả lời đăng nhập không đúng dạng.") from exc
        self._tokens = _Tokens(access, refresh, time.monotonic() + lifetime,
                               min(REFRESH_MARGIN_SECONDS, lifetime / 4))

    # -- enrollment ------------------------------------------------------------------------

    def enroll(self, csr_pem: str) -> Enrollment:
        """Send the device key's CSR; the district CA answers the device certificate."""
        answer = self._post("/api/auth/enroll", {"csr_pem": csr_pem}, bearer=True)
        try:
            return Enrollment(str(answer["device_id"]), str(answer["serial"]),
                              str(answer["certificate_pem"]))
        except KeyError as exc:
            raise ServerRefused("máy chủ trả lời cấp chứng thư không đúng dạng.") from exc

    # -- plumbing --------------------------------------------------------------------------

    def _post(self, path: str, body: dict[str, Any], *, bearer: bool = False) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.access_token()}"} if bearer else {}
        try:
            response = self._client.post(path, json=body, headers=headers)
        except httpx.TransportError as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                raise ServerUnreachable(f"chứng thư TLS của máy chủ {self.server} không được "
                                        "tin cậy (chỉ định CA bằng --ca-file nếu quận dùng "
                                        "CA riêng).") from exc
            raise ServerUnreachable(f"không kết nối được máy chủ {self.server} "
                                    f"({type(exc).__name__}).") from exc
        data = _json_or_empty(response.content)
        if response.status_code == 401 and data.get("wipe") is True:
            raise WipeOrdered(str(data.get("detail") or "thiết bị đã bị thu hồi."))
        if response.status_code >= 500:
            raise ServerUnreachable(f"máy chủ {self.server} đang lỗi (HTTP "
                                    f"{response.status_code}).")
        if response.status_code >= 400:
            detail = data.get("detail") or data.get("reason") or f"HTTP {response.status_code}"
            raise ServerRefused(f"máy chủ từ chối: {detail}")
        return data

    def close(self) -> None:
        self._client.close()
