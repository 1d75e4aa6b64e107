"""A lean HTTP/1.1 client for attachment bodies, on the standard library's `http.client`.

Why: reading a 200 KB attachment through httpx costs about three times the CPU of
`http.client` (h11 parses the body in Python, chunk by chunk), and a pull of many
attachments is one such GET per attachment, or a `_bulk_get` answer of several megabytes.
`RawGetter` keeps one persistent connection per thread (the replicator fetches from a
thread pool), verifies TLS with the context it is given, sends the caller's headers
(credentials included) and nothing else, and hands back the status, the headers and the
whole body. It neither retries nor interprets the status:
the caller does both, as it does for its other requests. A connection the server closed
while it sat idle is reopened once, at once, before the failure counts as a network error.
"""

from __future__ import annotations

import http.client
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit


class RawNetworkError(Exception):
    """The request could not be made or its answer could not be read."""


@dataclass(frozen=True, slots=True)
class RawAnswer:
    status: int
    headers: Mapping[str, str]
    body: bytes


class RawGetter:
    """GETs (and read-only POSTs) below one base URL (`https://host:port/db/`), a
    connection per thread."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        tls: ssl.SSLContext | None,
        timeout: float,
    ) -> None:
        parts = urlsplit(base_url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._prefix = parts.path.rstrip("/") + "/"
        self._headers = dict(headers)
        self._tls = tls
        self._timeout = timeout
        self._local = threading.local()
        self._opened: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's connection, and whether it was used before (it may be stale)."""
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn, True
        if self._https:
            conn = http.client.HTTPSConnection(self._host, self._port, timeout=self._timeout,
                                               context=self._tls)
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        self._local.conn = conn
        with self._lock:
            self._opened.append(conn)
        return conn, False

    def _drop(self, conn: http.client.HTTPConnection) -> None:
        conn.close()
        self._local.conn = None

    def get(self, path: str, params: Mapping[str, str] | None = None) -> RawAnswer:
        """`GET <base>/<path>?<params>` (`path` already quoted)."""
        return self._exchange("GET", path, params, None)

    def post_json(self, path: str, params: Mapping[str, str] | None, body: bytes) -> RawAnswer:
        """`POST <base>/<path>?<params>` with a JSON body: for reads that take one
        (`_bulk_get`), so resending it after a dropped connection is harmless."""
        return self._exchange("POST", path, params, body)

    def _exchange(self, method: str, path: str, params: Mapping[str, str] | None,
                  body: bytes | None) -> RawAnswer:
        target = self._prefix + path + (f"?{urlencode(params)}" if params else "")
        headers = self._headers if body is None else {
            **self._headers, "Content-Type": "application/json"}
        for _ in range(2):
            conn, reused = self._connection()
            try:
                conn.request(method, target, body=body, headers=headers)
                response = conn.getresponse()
                content = response.read()
            except (OSError, http.client.HTTPException) as exc:
                self._drop(conn)
                stale = reused and isinstance(
                    exc, http.client.RemoteDisconnected | BrokenPipeError | ConnectionResetError)
                if stale:
                    continue  # the server closed it while idle: a fresh one, once
                raise RawNetworkError(type(exc).__name__) from exc
            if response.will_close:
                self._drop(conn)
            return RawAnswer(response.status, dict(response.headers.items()), content)
        raise RawNetworkError("connection closed twice")

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()
