"""A CouchDB-API database over HTTP (Apache CouchDB, PouchDB Server, our gateway) as a Peer.

Guarantees: TLS is verified; credentials (in the URL, a user/password pair or a bearer
token) go in headers only and never appear in `label` or in any error message; network
errors, 429 and 5xx are retried with bounded, jittered exponential back-off and then raise
`PeerUnavailable`; 401/403 raise `Unauthorized`/`Forbidden` at once (no retry). Sequence
values are passed back exactly as the server gave them.

Server differences handled here: PouchDB Server cannot filter `_changes` by selector (a POST
with `filter=_selector` kills it), so unless the root says `"couchdb"` the selector is
applied locally to `include_docs` rows; `open_revs` answers may be JSON or `multipart/mixed`;
a server without `_bulk_get` makes `bulk_get` raise `NotSupported`. A JSON-only server's
attachment bodies come in one `_bulk_get?attachments=true` per group, and one raw GET each
only for what that does not answer; both go through `rawhttp.RawGetter` (a third of httpx's
CPU per body) with the same credentials, TLS verification, retries and error mapping as
every other request.
A long-poll asks for a `heartbeat` every HEARTBEAT seconds and reads the answer as it
streams, so it ends on time (or at once when stopping) whatever the server does with
`timeout`.
"""

from __future__ import annotations

import base64
import functools
import json
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import httpx
import msgspec

from sync.errors import (
    BadRequest,
    Conflict,
    DocumentError,
    Forbidden,
    MissingStub,
    NotFound,
    NotSupported,
    PeerProtocolError,
    PeerUnavailable,
    TooLarge,
    from_answer,
)
from sync.peers.base import Feed
from sync.peers.rawhttp import RawGetter, RawNetworkError
from sync.peers.retry import Backoff
from sync.protocol import multipart
from sync.protocol import selector as mango
from sync.protocol.model import (
    BodiesWanted,
    Change,
    ChangesPage,
    Doc,
    FetchError,
    Missing,
    PeerInfo,
    Revision,
    Seq,
    Wanted,
    WriteFailure,
)

_RETRY_STATUSES = {408, 429, 500, 502, 503, 504}


# httpcore writes a body by slicing off what each send() took and copying the rest: a 20 MB
# `_bulk_docs` goes out in 6 sends on an idle loopback (46 MB copied), in more when the
# server reads slowly. Handed over in pieces of at most SEND_PIECE, each byte is copied
# once (push of 200 x 600 KB: 0.46 -> 0.40 s of our CPU).
SEND_PIECE = 1024 * 1024


def _in_pieces(chunks: Iterable[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        for start in range(0, len(chunk), SEND_PIECE):
            yield chunk[start : start + SEND_PIECE]


class _InlineBody(msgspec.Struct):
    data: bytes | None = None  # base64 in the JSON: msgspec decodes it (4x `b64decode`)


class _DocBodies(msgspec.Struct):
    id: str = msgspec.field(name="_id")
    rev: str = msgspec.field(name="_rev")
    attachments: dict[str, _InlineBody] = msgspec.field(name="_attachments",
                                                        default_factory=dict)


class _BulkGetItem(msgspec.Struct):
    ok: _DocBodies | None = None  # or an error: that revision goes the slow way


class _BulkGetEntry(msgspec.Struct):
    docs: list[_BulkGetItem] = msgspec.field(default_factory=list)


class _BulkGetBodies(msgspec.Struct):
    """What `_bulk_get?attachments=true` answers, as far as attachment bodies go."""

    results: list[_BulkGetEntry] = msgspec.field(default_factory=list)


_BULK_BODIES = msgspec.json.Decoder(_BulkGetBodies)


def strip_credentials(url: str) -> str:
    """`url` without any user:password@ part (safe to print)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def doc_path(doc_id: str) -> str:
    """A document id as a URL path (`_design/` and `_local/` keep their slash)."""
    for prefix in ("_design/", "_local/"):
        if doc_id.startswith(prefix):
            return prefix + quote(doc_id[len(prefix) :], safe="")
    return quote(doc_id, safe="")


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The verifying TLS context every peer shares: building one reads the CA bundle, which
    costs more than a whole small replication's worth of requests."""
    return httpx.create_ssl_context(verify=True)


# Seconds between the newlines a server sends while a long-poll waits: proxies and NATs
# see traffic, a silent connection is known dead after 2 × HEARTBEAT + 5 s, and a stopping
# replication ends its poll within HEARTBEAT.
HEARTBEAT = 5.0


class _PollEnded(Exception):
    """A long-poll ended on our side: past its time, or the replication is stopping."""


def _seq_param(seq: Seq) -> str:
    return seq if isinstance(seq, str) else json.dumps(seq)


class HttpPeer:
    """One remote database, e.g. `https://user:pw@host/db`."""

    def __init__(
        self,
        url: str,
        *,
        user: str | None = None,
        password: str | None = None,
        bearer: str | None = None,
        timeout: float = 30.0,
        backoff: Backoff | None = None,
        multipart_writes: bool | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BadRequest(f"not an http(s) database URL: {strip_credentials(url)!r}")
        if not parts.path.strip("/"):
            raise BadRequest(f"the URL names no database: {strip_credentials(url)!r}")
        user = user if user is not None else (unquote(parts.username) if parts.username else None)
        if password is None and parts.password is not None:
            password = unquote(parts.password)
        self.label = strip_credentials(url).rstrip("/")
        self._user = user
        headers = {"Accept": "application/json"}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        auth = httpx.BasicAuth(user, password or "") if user and not bearer else None
        self._client = httpx.Client(
            base_url=self.label + "/",
            auth=auth,
            headers=headers,
            timeout=timeout,
            verify=tls_context(),
            transport=transport,
        )
        # Attachment bodies come through the lean client, unless the caller plugged in a
        # transport (an in-process app, a test double): then everything goes through it.
        self._raw: RawGetter | None = None
        if transport is None:
            raw_headers = {"Accept": "*/*"}
            if bearer:
                raw_headers["Authorization"] = f"Bearer {bearer}"
            elif user:
                pair = base64.b64encode(f"{user}:{password or ''}".encode()).decode("ascii")
                raw_headers["Authorization"] = f"Basic {pair}"
            tls = tls_context() if self.label.startswith("https:") else None
            self._raw = RawGetter(self.label + "/", raw_headers, tls, timeout)
        self._backoff = backoff or Backoff()
        # None: multipart/related PUTs for Apache CouchDB, inline base64 in _bulk_docs for
        # others (PouchDB Server spools multipart parts to disk, which is slower there).
        self._multipart_writes = multipart_writes
        self._root: dict[str, Any] | None = None
        self._multipart_reads: bool | None = None  # does open_revs answer multipart?
        self._bulk_get_bodies = True  # until the server shows it has no usable _bulk_get

    # -- plumbing --------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        content: Callable[[], Iterator[bytes]] | None = None,
        headers: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (),
    ) -> httpx.Response:
        """One request, retried on network errors, 408/429 and 5xx; 4xx raise by kind
        unless listed in `ok`."""
        encoded = msgspec.json.encode(body) if body is not None else None
        all_headers = dict(headers or {})
        if encoded is not None:
            all_headers["Content-Type"] = "application/json"
            all_headers["Content-Length"] = str(len(encoded))  # sent in pieces, not chunked

        def attempt() -> httpx.Response:
            pieces = None  # no body at all: an empty iterator would be sent chunked
            if content is not None:
                pieces = _in_pieces(content())
            elif encoded is not None:
                pieces = _in_pieces([encoded])
            return self._client.request(
                method, path, params=params, content=pieces, headers=all_headers,
            )

        return self._retrying(method, path, attempt, ok=ok)

    def _get_bytes(self, path: str, params: Mapping[str, str]) -> bytes:
        """A raw body (an attachment), through the lean client where there is one."""
        raw = self._raw
        if raw is None:
            return self._send("GET", path, params=params, headers={"Accept": "*/*"}).content

        def attempt() -> httpx.Response:
            answer = raw.get(path, params)
            return httpx.Response(answer.status, headers=answer.headers, content=answer.body)

        return self._retrying("GET", path, attempt).content

    def _post_read(self, path: str, params: Mapping[str, str], body: Any,
                   ok: tuple[int, ...] = ()) -> httpx.Response:
        """A POST that only reads (`_bulk_get`), through the lean client where there is
        one: its answer may carry megabytes of base64 attachment bodies."""
        raw = self._raw
        if raw is None:
            return self._send("POST", path, params=params, body=body, ok=ok)
        encoded = msgspec.json.encode(body)

        def attempt() -> httpx.Response:
            answer = raw.post_json(path, params, encoded)
            return httpx.Response(answer.status, headers=answer.headers, content=answer.body)

        return self._retrying("POST", path, attempt, ok=ok)

    def _retrying(
        self,
        method: str,
        path: str,
        attempt: Callable[[], httpx.Response],
        *,
        ok: tuple[int, ...] = (),
        retry_timeouts: bool = True,
    ) -> httpx.Response:
        delays = self._backoff.delays()
        while True:
            try:
                response = attempt()
                if response.status_code not in _RETRY_STATUSES:
                    break
                problem = f"HTTP {response.status_code}"
            except httpx.ReadTimeout:
                if not retry_timeouts:
                    raise
                problem = "ReadTimeout"
            except httpx.TransportError as exc:
                problem = type(exc).__name__
            except RawNetworkError as exc:
                problem = str(exc)
            delay = next(delays, None)
            if delay is None:
                raise PeerUnavailable(f"{self.label}: {method} {path} failed: {problem}")
            self._backoff.sleep(delay)
        if response.status_code >= 400 and response.status_code not in ok:
            raise self._error(response, method, path)
        return response

    def _error(self, response: httpx.Response, method: str, path: str) -> DocumentError:
        try:
            data = response.json()
        except ValueError:
            data = {}
        error = str(data.get("error", "")) if isinstance(data, dict) else ""
        reason = str(data.get("reason", "")) if isinstance(data, dict) else ""
        where = f"{self.label}: {method} {path.split('?')[0]} → {response.status_code}"
        message = f"{where} {error}: {reason}".rstrip(": ")
        return from_answer(response.status_code, error, message)

    def _json(self, response: httpx.Response) -> Any:
        try:
            return msgspec.json.decode(response.content)
        except msgspec.DecodeError as exc:
            raise PeerProtocolError(f"{self.label}: answer is not JSON ({exc})") from exc

    # -- the Peer interface ------------------------------------------------------------------

    def identity(self) -> str:
        return f"{self.label}|{self._user or ''}"

    def server_root(self) -> dict[str, Any]:
        if self._root is None:
            root_url = self.label.rsplit("/", 1)[0] + "/"
            response = self._send("GET", root_url)
            data = self._json(response)
            self._root = data if isinstance(data, dict) else {}
        return self._root

    def _writes_multipart(self) -> bool:
        if self._multipart_writes is None:
            return self.is_couchdb()
        return self._multipart_writes

    def is_couchdb(self) -> bool:
        """Apache CouchDB (its root says "couchdb"), not PouchDB Server or another."""
        return "couchdb" in self.server_root()

    def filters_by_selector(self) -> bool:
        """Only Apache CouchDB may be sent `filter=_selector` (it kills PouchDB Server)."""
        return self.is_couchdb()

    def info(self) -> PeerInfo:
        # Which server this is (its root) is asked alongside the database, not after it:
        # a first contact costs one round trip instead of two.
        ask_root = self._root is None and self._multipart_writes is None
        with ThreadPoolExecutor(1, thread_name_prefix="root") as pool:
            root = pool.submit(self.server_root) if ask_root else None
            data = self._json(self._send("GET", ""))
            if root is not None:
                root.result()
        if not isinstance(data, dict) or "update_seq" not in data:
            raise PeerProtocolError(f"{self.label}: database info lacks update_seq")
        return PeerInfo(str(data.get("db_name", "")), data["update_seq"], data.get("doc_count"),
                        multipart_writes=self._writes_multipart())

    def create(self) -> None:
        self._send("PUT", "", ok=(412,))

    def changes(
        self,
        since: Seq,
        *,
        limit: int | None,
        doc_ids: Sequence[str] | None = None,
        selector: Mapping[str, Any] | None = None,
        feed: Feed = "normal",
        timeout: float | None = None,
        include_docs: bool = False,
        stop: threading.Event | None = None,
    ) -> ChangesPage:
        params = {"style": "all_docs", "since": _seq_param(since), "feed": feed}
        if include_docs:
            params["include_docs"] = "true"
        if limit is not None:
            params["limit"] = str(limit)
        wait = timeout if timeout is not None else 60.0
        if feed == "longpoll":
            params["timeout"] = str(int(wait * 1000))
            params["heartbeat"] = str(int(HEARTBEAT * 1000))
        local_selector = None
        body: dict[str, Any] | None = None
        if doc_ids is not None:
            params["filter"] = "_doc_ids"
            body = {"doc_ids": list(doc_ids)}
        elif selector is not None:
            if self.filters_by_selector():
                params["filter"] = "_selector"
                body = {"selector": selector}
            else:
                params["include_docs"] = "true"
                local_selector = selector
        method = "POST" if body is not None else "GET"
        if feed != "longpoll":
            response = self._send(method, "_changes", params=params, body=body)
            return self._page(self._json(response), local_selector)
        try:
            response = self._long_poll(method, params, body, wait, stop)
        except (httpx.ReadTimeout, _PollEnded):
            return ChangesPage((), since, scanned=0)  # the poll ended with nothing new
        return self._page(self._json(response), local_selector)

    def _long_poll(self, method: str, params: Mapping[str, str], body: Any, wait: float,
                   stop: threading.Event | None) -> httpx.Response:
        """A long-poll `_changes` answer, read as it streams in. It ends on our side (raising
        `_PollEnded`) once `stop` is set, or on a heartbeat after `wait` + HEARTBEAT:
        PouchDB Server ignores `timeout`, and CouchDB lets `heartbeat` override it. An
        answer already flowing is read to its end, however slow the link. A server that
        sends no heartbeat is cut off by the read timeout (ReadTimeout)."""
        encoded = msgspec.json.encode(body) if body is not None else None
        # Uncompressed: PouchDB Server's gzip holds the heartbeat newlines back.
        headers = {"Accept-Encoding": "identity"}
        if encoded is not None:
            headers["Content-Type"] = "application/json"
        deadline = time.monotonic() + wait + HEARTBEAT

        def attempt() -> httpx.Response:
            with self._client.stream(method, "_changes", params=params, content=encoded,
                                     headers=headers, timeout=2 * HEARTBEAT + 5.0) as answer:
                chunks = []
                for chunk in answer.iter_bytes():
                    chunks.append(chunk)
                    if stop is not None and stop.is_set():
                        raise _PollEnded
                    if not chunk.strip() and time.monotonic() > deadline:
                        raise _PollEnded  # a heartbeat past the poll's time: nothing came
                # Decoded already: the copy keeps the status and the body, not the encoding.
                return httpx.Response(answer.status_code, content=b"".join(chunks))

        return self._retrying(method, "_changes", attempt, retry_timeouts=False)

    def _page(self, data: Any, local_selector: Mapping[str, Any] | None) -> ChangesPage:
        if not isinstance(data, dict) or not isinstance(data.get("results"), list):
            raise PeerProtocolError(f"{self.label}: _changes answer lacks results")
        rows: list[Change] = []
        for row in data["results"]:
            if local_selector is not None:
                doc = row.get("doc")
                if not isinstance(doc, dict) or not mango.matches(doc, local_selector):
                    continue
            revs = tuple(str(c["rev"]) for c in row.get("changes", []))
            doc = row.get("doc")
            rows.append(Change(row["seq"], str(row["id"]), revs, bool(row.get("deleted")),
                               doc if isinstance(doc, dict) else None))
        last = data.get("last_seq", rows[-1].seq if rows else None)
        return ChangesPage(tuple(rows), last, scanned=len(data["results"]))

    def revs_diff(self, revs: Mapping[str, Sequence[str]]) -> list[Missing]:
        if not revs:
            return []
        data = self._json(self._send("POST", "_revs_diff", body=revs))
        return [
            Missing(doc_id, tuple(entry.get("missing", ())),
                    tuple(entry.get("possible_ancestors", ())))
            for doc_id, entry in data.items()
            if entry.get("missing")
        ]

    def bulk_get(self, wanted: Sequence[Wanted]) -> list[Revision | FetchError]:
        if not wanted:
            return []
        params = {"revs": "true", "latest": "true", "attachments": "false"}
        body = {"docs": [{"id": w.id, "rev": w.rev} for w in wanted]}
        response = self._send("POST", "_bulk_get", params=params, body=body,
                              ok=(400, 404, 405, 501))
        if response.status_code >= 400:
            raise NotSupported(f"{self.label}: no usable _bulk_get (HTTP {response.status_code})")
        data = self._json(response)
        results: list[Revision | FetchError] = []
        for entry in data.get("results", []):
            for item in entry.get("docs", []):
                if "ok" in item:
                    results.append(Revision(item["ok"]))
                else:
                    err = item.get("error", {})
                    results.append(FetchError(str(err.get("id", entry.get("id"))),
                                              err.get("rev"), str(err.get("error", "unknown")),
                                              str(err.get("reason", ""))))
        return results

    def open_revs(
        self, doc_id: str, revs: Sequence[str], atts_since: Sequence[str]
    ) -> list[Revision | FetchError]:
        # CouchDB sends attachment bodies in binary parts (multipart/mixed). A server that
        # answers JSON only (PouchDB Server) would send them as base64 inside JSON, which
        # costs it far more than serving each attachment raw: after the first such answer,
        # fetch the JSON without bodies and each needed attachment with a plain GET.
        raw_bodies = self._multipart_reads is False
        params = {"open_revs": json.dumps(list(revs)), "revs": "true", "latest": "true",
                  "attachments": "false" if raw_bodies else "true"}
        if atts_since and not raw_bodies:
            params["atts_since"] = json.dumps(list(atts_since))
        accept = {"Accept": "multipart/mixed, application/json"}
        response = self._send("GET", doc_path(doc_id), params=params, headers=accept)
        content_type = response.headers.get("content-type", "")
        if content_type.startswith("multipart/"):
            self._multipart_reads = True
            parts = multipart.read_parts([response.content], content_type)
            return multipart.read_open_revs(doc_id, parts)
        self._multipart_reads = False
        results: list[Revision | FetchError] = []
        for item in self._json(response):
            if "ok" in item:
                revision = Revision(item["ok"])
                results.append(self._with_raw_bodies(BodiesWanted(revision, tuple(atts_since)))
                               if raw_bodies else revision)
            else:
                results.append(FetchError(doc_id, item.get("missing"), "not_found", "missing"))
        return results

    def fetch_attachments(
        self, wanted: Sequence[BodiesWanted], bulk_get: bool
    ) -> list[Revision | FetchError]:
        # The revisions' JSON is already here: fetching it again costs the server a read.
        # CouchDB sends each one's bodies in one multipart answer. A JSON-only server
        # (PouchDB Server) sends them as base64: one `_bulk_get` for the whole group costs
        # it no more CPU than one raw GET per attachment, and costs us 40 requests instead
        # of 600 for 200 documents of 3 x 200 KB (its CPU, 2026-12-04: 0.8-1.0 s against
        # 1.2-1.8 s; 2026-12-05, through http.client: 0.72-0.85 s in groups of 5 or 10
        # documents, against 0.82-0.99 s).
        multipart_reads = self._multipart_reads
        if multipart_reads or (multipart_reads is None and self.is_couchdb()):
            return [found for w in wanted
                    for found in self.open_revs(w.revision.id, [w.revision.rev], w.atts_since)]
        answered = self._bodies_in_bulk(wanted) if bulk_get and self._bulk_get_bodies else {}
        results: list[Revision | FetchError] = []
        for w in wanted:
            bodies = answered.get((w.revision.id, w.revision.rev))
            try:
                filled = w.filled_from(bodies) if bodies is not None else None
                results.append(filled or self._with_raw_bodies(w))
            except NotFound:  # the revision went away meanwhile (compacted, purged): ask again
                results += self.open_revs(w.revision.id, [w.revision.rev], w.atts_since)
        return results

    def _bodies_in_bulk(self, wanted: Sequence[BodiesWanted]
                        ) -> dict[tuple[str, str], dict[str, bytes]]:
        """`_bulk_get?attachments=true` for the wanted revisions: the attachment bodies of
        each answered one by (id, rev). Revisions it does not answer are left to the
        caller's fallback; a server without a usable `_bulk_get` is not asked again."""
        docs = [{"id": w.revision.id, "rev": w.revision.rev}
                | ({"atts_since": list(w.atts_since)} if w.atts_since else {}) for w in wanted]
        response = self._post_read("_bulk_get", {"revs": "false", "attachments": "true"},
                                   {"docs": docs}, ok=(400, 404, 405, 501))
        if response.status_code >= 400:
            self._bulk_get_bodies = False
            return {}
        try:
            answer = _BULK_BODIES.decode(response.content)
        except msgspec.DecodeError as exc:
            raise PeerProtocolError(f"{self.label}: _bulk_get answer unreadable ({exc})") from exc
        return {(item.ok.id, item.ok.rev): {name: att.data for name, att
                                            in item.ok.attachments.items() if att.data is not None}
                for entry in answer.results for item in entry.docs if item.ok is not None}

    def _with_raw_bodies(self, wanted: BodiesWanted) -> Revision:
        """Fetch, one GET each, the attachments the wanted revision needs."""
        revision = wanted.revision
        bodies = {
            name: self._get_bytes(f"{doc_path(revision.id)}/{quote(name, safe='')}",
                                  {"rev": revision.rev})
            for name, att in revision.attachments().items() if wanted.needs(att)
        }
        return wanted.with_bodies(bodies)

    def bulk_docs(self, docs: Sequence[Doc]) -> list[WriteFailure]:
        response = self._send("POST", "_bulk_docs", body={"docs": list(docs), "new_edits": False})
        data = self._json(response)
        return [WriteFailure.from_row(item) for item in data
                if isinstance(item, dict) and "error" in item]

    def put_revision(self, revision: Revision) -> WriteFailure | None:
        params = {"new_edits": "false"}
        path = doc_path(revision.id)
        try:
            if self._writes_multipart():
                split = revision.with_follows()
                boundary = multipart.new_boundary()
                headers = {"Content-Type": f'multipart/related; boundary="{boundary}"'}

                def body() -> Iterator[bytes]:
                    return multipart.related_parts(split.doc, split.blobs, boundary)

                self._send("PUT", path, params=params, headers=headers, content=body)
            else:
                self._send("PUT", path, params=params, body=revision.inline())
        except (Forbidden, Conflict, BadRequest) as exc:
            return WriteFailure.of(revision, exc)
        return None

    def put_revisions(self, revisions: Sequence[Revision]) -> list[WriteFailure]:
        failures: list[WriteFailure] = []
        for revision in revisions:
            try:
                failure = self.put_revision(revision)
            except (MissingStub, TooLarge) as exc:
                failure = WriteFailure.of(revision, exc)
            if failure is not None:
                failures.append(failure)
        return failures

    def get_local(self, local_id: str) -> Doc | None:
        response = self._send("GET", doc_path(local_id), ok=(404,))
        if response.status_code == 404:
            return None
        data = self._json(response)
        return data if isinstance(data, dict) else None

    def put_local(self, doc: Doc) -> str:
        path = doc_path(str(doc["_id"]))
        try:
            data = self._json(self._send("PUT", path, body=doc))
        except Conflict:
            # A retried PUT whose first attempt landed: write on top of what is there now.
            current = self.get_local(str(doc["_id"]))
            fresh = {**doc, "_rev": current["_rev"]} if current else {
                k: v for k, v in doc.items() if k != "_rev"}
            data = self._json(self._send("PUT", path, body=fresh))
        return str(data["rev"])

    def ensure_full_commit(self) -> None:
        self._send("POST", "_ensure_full_commit", body={}, ok=(400, 404, 405))

    def close(self) -> None:
        self._client.close()
        if self._raw is not None:
            self._raw.close()
