"""CouchDB over httpx (verify=True), translating its answers into `sync.errors`.

Attachments sent as `multipart/related` streams are inlined as base64 before they are
written (PouchDB Server does not take multipart writes); attachments are read whole
(bounded by the server's attachment limit) and handed out in 64 KiB chunks.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, BinaryIO
from urllib.parse import quote

import httpx

from sync.errors import (
    BadRequest,
    DocumentError,
    FileExists,
    NotFound,
    PeerProtocolError,
    PeerUnavailable,
    from_answer,
)
from sync.peers.http import doc_path as _doc_path
from sync.peers.http import tls_context

CHUNK = 64 * 1024


def _error(response: httpx.Response) -> DocumentError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    name = str(body.get("error", "")) if isinstance(body, dict) else ""
    reason = str(body.get("reason", response.text[:200])) if isinstance(body, dict) else ""
    if response.status_code >= 500:
        return PeerUnavailable(f"CouchDB answered {response.status_code}: {reason}")
    error = from_answer(response.status_code, name, reason)
    if type(error) is PeerProtocolError:
        return PeerProtocolError(f"unexpected CouchDB answer {response.status_code}: {reason}")
    return error


class CouchAttachment:
    """An attachment read from CouchDB: metadata, and its bytes in chunks."""

    def __init__(self, content_type: str, data: bytes) -> None:
        self.content_type = content_type
        self.length = len(data)
        self.digest = "md5-" + base64.b64encode(hashlib.md5(data).digest()).decode()  # noqa: S324
        self._data = data

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self._data), CHUNK):
            yield self._data[start:start + CHUNK]

    def read(self) -> bytes:
        return self._data


class CouchServer:
    def __init__(self, url: str, *, timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.Client(base_url=self.url + "/", timeout=timeout,
                                    verify=tls_context(),
                                    headers={"Accept": "application/json"})

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise PeerUnavailable(f"CouchDB at {self.url} unreachable: {exc}") from exc
        if response.status_code >= 400:
            raise _error(response)
        return response

    def open(self, name: str, key: bytes | None = None, create: bool = False) -> CouchDatabase:
        if key is not None:
            raise BadRequest("CouchDB databases are not encrypted with a key")
        path = quote(name, safe="")
        try:
            self._request("GET", path)
        except NotFound:
            if not create:
                raise
            with contextlib.suppress(FileExists):  # created by another process meanwhile
                self._request("PUT", path)
        return CouchDatabase(self, path, name)

    def names(self) -> list[str]:
        names: list[str] = self._request("GET", "_all_dbs").json()
        return names

    def close(self) -> None:
        self._client.close()


class CouchDatabase:
    def __init__(self, server: CouchServer, path: str, name: str) -> None:
        self._server = server
        self._path = path
        self.name = name

    def _call(self, method: str, path: str = "", **kwargs: Any) -> Any:
        target = f"{self._path}/{path}" if path else self._path
        return self._server._request(method, target, **kwargs).json()

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = self._call("GET")
        return info

    # -- reading ---------------------------------------------------------------------------

    def get(self, doc_id: str, *, rev: str | None = None, revs: bool = False,
            conflicts: bool = False, deleted_conflicts: bool = False,
            attachments: bool = False, atts_since: list[str] | None = None,
            latest: bool = False) -> dict[str, Any]:
        params: dict[str, str] = {}
        for name, on in (("revs", revs), ("conflicts", conflicts),
                         ("deleted_conflicts", deleted_conflicts),
                         ("attachments", attachments), ("latest", latest)):
            if on:
                params[name] = "true"
        if rev is not None:
            params["rev"] = rev
        if atts_since is not None:
            params["atts_since"] = json.dumps(atts_since)
        doc: dict[str, Any] = self._call("GET", _doc_path(doc_id), params=params)
        return doc

    def open_revs(self, doc_id: str, revs: list[str] | str, *, revs_history: bool = False,
                  latest: bool = False, attachments: bool = False,
                  atts_since: list[str] | None = None) -> list[dict[str, Any]]:
        params = {"open_revs": revs if revs == "all" else json.dumps(revs),
                  "revs": json.dumps(revs_history), "latest": json.dumps(latest),
                  "attachments": json.dumps(attachments)}
        if atts_since is not None:
            params["atts_since"] = json.dumps(atts_since)
        found: list[dict[str, Any]] = self._call("GET", _doc_path(doc_id), params=params)
        return found

    def all_docs(self, *, keys: list[str] | None = None, startkey: str | None = None,
                 endkey: str | None = None, include_docs: bool = False,
                 limit: int | None = None) -> dict[str, Any]:
        params: dict[str, str] = {"include_docs": json.dumps(include_docs)}
        if startkey is not None:
            params["startkey"] = json.dumps(startkey)
        if endkey is not None:
            params["endkey"] = json.dumps(endkey)
        if limit is not None:
            params["limit"] = str(limit)
        if keys is not None:
            result: dict[str, Any] = self._call("POST", "_all_docs", params=params,
                                                json={"keys": keys})
            # CouchDB answers deleted documents with a null doc; callers expect none.
            for row in result["rows"]:
                if row.get("doc") is None:
                    row.pop("doc", None)
            return result
        answer: dict[str, Any] = self._call("GET", "_all_docs", params=params)
        return answer

    def changes(self, *, since: Any = 0, limit: int | None = None, style: str = "main_only",
                include_docs: bool = False, timeout: float | None = None) -> dict[str, Any]:
        params: dict[str, str] = {"since": since if isinstance(since, str) else json.dumps(since),
                                  "style": style, "include_docs": json.dumps(include_docs)}
        if limit is not None:
            params["limit"] = str(limit)
        wait = None
        if timeout is not None:
            params.update(feed="longpoll", timeout=str(int(timeout * 1000)))
            wait = timeout + 30
        result: dict[str, Any] = self._call("GET", "_changes", params=params,
                                            timeout=wait or httpx.USE_CLIENT_DEFAULT)
        return result

    def revs_diff(self, request: Mapping[str, list[str]]) -> dict[str, Any]:
        answer: dict[str, Any] = self._call("POST", "_revs_diff", json=dict(request))
        return answer

    def bulk_get(self, requests: list[Mapping[str, Any]], *, revs: bool = False,
                 attachments: bool = False, latest: bool = False) -> dict[str, Any]:
        params = {"revs": json.dumps(revs), "attachments": json.dumps(attachments),
                  "latest": json.dumps(latest)}
        answer: dict[str, Any] = self._call("POST", "_bulk_get", params=params,
                                            json={"docs": [dict(r) for r in requests]})
        return answer

    def attachment(self, doc_id: str, name: str, *, rev: str | None = None) -> CouchAttachment:
        params = {"rev": rev} if rev else {}
        response = self._server._request(
            "GET", f"{self._path}/{_doc_path(doc_id)}/{quote(name, safe='')}", params=params)
        content_type = response.headers.get("content-type", "application/octet-stream")
        return CouchAttachment(content_type, response.content)

    # -- writing ---------------------------------------------------------------------------

    def put(self, doc: Mapping[str, Any], *, new_edits: bool = True,
            attachment_streams: Mapping[str, Iterable[bytes] | BinaryIO] | None = None
            ) -> dict[str, Any]:
        body = dict(doc)
        if attachment_streams:
            body["_attachments"] = _inline(body.get("_attachments") or {}, attachment_streams)
        params = {} if new_edits else {"new_edits": "false"}
        answer: dict[str, Any] = self._call("PUT", _doc_path(str(body["_id"])), params=params,
                                            json=body)
        return answer

    def delete(self, doc_id: str, rev: str) -> dict[str, Any]:
        answer: dict[str, Any] = self._call("DELETE", _doc_path(doc_id), params={"rev": rev})
        return answer

    def bulk_docs(self, docs: list[Mapping[str, Any]], *, new_edits: bool = True
                  ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._call(
            "POST", "_bulk_docs", json={"docs": [dict(d) for d in docs], "new_edits": new_edits})
        return rows if new_edits else [r for r in rows if "error" in r]

    def get_local(self, doc_id: str) -> dict[str, Any]:
        return self.get(doc_id)

    def put_local(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        return self.put(doc)

    def delete_local(self, doc_id: str, rev: str) -> dict[str, Any]:
        return self.delete(doc_id, rev)

    def close(self) -> None:
        """The server's client is shared by its databases; `CouchServer.close` ends it."""


def _inline(attachments: Mapping[str, Any],
            streams: Mapping[str, Iterable[bytes] | BinaryIO]) -> dict[str, Any]:
    out = dict(attachments)
    for name, source in streams.items():
        data = source.read() if hasattr(source, "read") else b"".join(source)
        meta = dict(out.get(name) or {})
        meta.pop("follows", None)
        meta.pop("length", None)
        meta["data"] = base64.b64encode(data).decode("ascii")
        out[name] = meta
    return out
