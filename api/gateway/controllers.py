"""The sync gateway's HTTP surface: `/sync/{username}` speaks the CouchDB replication protocol.

Thin: it authenticates, checks that the path names the caller's own database, parses the
request (JSON, multipart, query options) and hands over to `Gateway`. Errors are raised,
never rendered here: `api.problems` turns them into CouchDB's `{"error", "reason"}`.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote

import anyio.to_thread
import msgspec
from litestar import Request, Response, route
from litestar.params import FromPath
from litestar.response import Stream

from api.auth import Identity
from api.gateway.multipart import mixed_body, parse_related
from api.services import Services
from sync.errors import BadRequest, Forbidden, NotFound, TooLarge

JSON = "application/json"
_DOC_OPTIONS = ("revs", "conflicts", "deleted_conflicts", "attachments", "latest")


async def _run(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))


def _services(request: Request[Any, Any, Any]) -> Services:
    services: Services = request.app.state.services
    return services


def _json(data: Any, status: int = 200) -> Response[bytes]:
    return Response(msgspec.json.encode(data), status_code=status, media_type=JSON)


async def _identify(request: Request[Any, Any, Any], username: str) -> Identity:
    services = _services(request)
    who: Identity = await _run(services.auth.authenticate, request.headers.get("authorization"))
    if who.role != "officer":
        raise Forbidden("only officers' devices sync through the gateway")
    if who.username != username:
        raise Forbidden(f"this is not your database: you may sync only /sync/{who.username}")
    return who


async def _body_json(request: Request[Any, Any, Any], services: Services) -> Any:
    body = await _body(request, services)
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(JSON):
        raise BadRequest(f"expected Content-Type: application/json, not {content_type!r}")
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise BadRequest(f"invalid JSON: {exc}") from None


async def _body(request: Request[Any, Any, Any], services: Services) -> bytes:
    limit = services.settings.sync.max_request_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the request is {declared} bytes; the limit is {limit}")
    body = await request.body()
    if len(body) > limit:
        raise TooLarge(f"the request is {len(body)} bytes; the limit is {limit}")
    services.metrics.bytes.labels("in").inc(len(body))
    return body


def _flag(request: Request[Any, Any, Any], name: str) -> bool:
    value = request.query_params.get(name, "false")
    if value not in ("true", "false"):
        raise BadRequest(f"{name} must be true or false, not {value!r}")
    return value == "true"


def _int(request: Request[Any, Any, Any], name: str) -> int | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if not value.isdigit():
        raise BadRequest(f"{name} must be a non-negative integer, not {value!r}")
    return int(value)


def _json_param(request: Request[Any, Any, Any], name: str) -> Any:
    value = request.query_params.get(name)
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:
        raise BadRequest(f"{name} must be JSON, not {value!r}") from None


def _segments(request: Request[Any, Any, Any]) -> list[str]:
    """The path after /sync/{username}/, split on raw slashes, each segment decoded
    (so an id with an encoded '/' stays one id)."""
    raw = request.scope.get("raw_path", b"").decode("latin-1").split("?", 1)[0]
    parts = [unquote(p) for p in raw.split("/")[3:]]
    return [p for p in parts if p != ""] or []


def _doc_path(parts: list[str]) -> tuple[str, str | None]:
    """Document id and attachment name; `_local/x` and `_design/x` take two segments."""
    if parts[0] in ("_local", "_design") and len(parts) > 1:
        parts = [f"{parts[0]}/{parts[1]}", *parts[2:]]
    if len(parts) > 2 and not parts[0].startswith("_"):
        return parts[0], "/".join(parts[1:])
    return parts[0], (parts[1] if len(parts) == 2 else None)


def _record_skew(request: Request[Any, Any, Any], services: Services, who: Identity) -> None:
    """The device's clock claim (X-Device-Time, else Date) against ours."""
    claim = request.headers.get("x-device-time") or request.headers.get("date")
    skew = None
    if claim:
        try:
            skew = parsedate_to_datetime(claim).timestamp() - time.time()
        except (TypeError, ValueError):
            try:
                skew = float(claim) - time.time()
            except ValueError:
                skew = None
    services.auth.record_contact(who.device_id, skew)


@route("/sync", http_method=["GET", "HEAD"], include_in_schema=False)
async def server_root(request: Request[Any, Any, Any]) -> Response[bytes]:
    """CouchDB's welcome, for clients that read the server root of their database URL."""
    services = _services(request)
    return _json({"couchdb": "Welcome", "version": "3.3.3", "uuid": services.server_uuid,
                  "vendor": {"name": "Doorstep", "version": "0.1.0"}})


@route("/sync/{username:str}", http_method=["GET", "HEAD", "PUT"], include_in_schema=False)
async def database(request: Request[Any, Any, Any], username: FromPath[str]) -> Response[bytes]:
    return await _database(request, username)


async def _database(request: Request[Any, Any, Any], username: str) -> Response[bytes]:
    services = _services(request)
    who = await _identify(request, username)
    if request.method == "PUT":
        raise Forbidden("the officer's database exists already; it cannot be created")
    info = await _run(services.gateway.info, who)
    services.metrics.sessions.inc()
    await _run(_record_skew, request, services, who)
    if request.method == "HEAD":
        return Response(b"", media_type=JSON, status_code=200)
    return _json(info)


@route("/sync/{username:str}/{rest:path}", http_method=["GET", "HEAD", "PUT", "POST", "DELETE"],
       include_in_schema=False)
async def inside(request: Request[Any, Any, Any], username: FromPath[str],
                 rest: FromPath[str]) -> Any:
    services = _services(request)
    who = await _identify(request, username)
    parts = _segments(request)
    if not parts:
        return await _database(request, username)
    head, method = parts[0], request.method
    if head == "_changes" and method in ("GET", "POST"):
        return await _changes(request, services, who)
    if head == "_revs_diff" and method == "POST":
        body = await _body_json(request, services)
        return _json(await _run(services.gateway.revs_diff, who, body))
    if head == "_bulk_get" and method == "POST":
        return await _bulk_get(request, services, who)
    if head == "_bulk_docs" and method == "POST":
        return await _bulk_docs(request, services, who)
    if head == "_ensure_full_commit" and method == "POST":
        return _json({"ok": True, "instance_start_time": "0"}, 201)
    if head.startswith("_") and head not in ("_local", "_design"):
        raise NotFound(f"the gateway does not offer {head}")
    doc_id, attachment = _doc_path(parts)
    if attachment is not None:
        return await _attachment(request, services, who, doc_id, attachment)
    return await _document(request, services, who, doc_id)


async def _changes(request: Request[Any, Any, Any], services: Services, who: Identity) -> Any:
    gateway = services.gateway
    feed = request.query_params.get("feed", "normal")
    if feed not in ("normal", "longpoll"):
        raise BadRequest(f"feed={feed!r} is not offered; use normal or longpoll")
    style = request.query_params.get("style", "main_only")
    if style not in ("main_only", "all_docs"):
        raise BadRequest(f"style must be main_only or all_docs, not {style!r}")
    since: Any = request.query_params.get("since", 0)
    options = {"since": since, "limit": _int(request, "limit"), "all_docs": style == "all_docs",
               "include_docs": _flag(request, "include_docs"),
               "descending": _flag(request, "descending")}
    await _run(_record_skew, request, services, who)
    if feed == "normal":
        result = await _run(gateway.changes, who, **options)
        services.metrics.docs.labels("out").inc(len(result["results"]))
        return _json(result)
    max_wait = services.settings.sync.max_longpoll_seconds
    timeout = min((_int(request, "timeout") or 60_000) / 1000, max_wait)
    heartbeat = (_int(request, "heartbeat") or 0) / 1000
    # Validate the token before the response starts: a bad one must be a clean 400.
    await _run(gateway.tokens.decode, who.username, since, gateway.index.seq)

    async def body() -> AsyncIterator[bytes]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            step = min(heartbeat, remaining) if heartbeat else remaining
            found = await _run(gateway.wait_for_changes, who, since, max(step, 0))
            if found or time.monotonic() >= deadline:
                break
            yield b"\n"
        result = await _run(gateway.changes, who, **options)
        services.metrics.docs.labels("out").inc(len(result["results"]))
        yield msgspec.json.encode(result)

    return Stream(body(), media_type=JSON, status_code=200)


async def _bulk_get(request: Request[Any, Any, Any], services: Services, who: Identity) -> Any:
    body = await _body_json(request, services)
    if not isinstance(body, dict):
        raise BadRequest("_bulk_get takes {\"docs\": [...]}")
    result = await _run(services.gateway.bulk_get, who, body.get("docs"),
                        revs=_flag(request, "revs"), attachments=_flag(request, "attachments"),
                        latest=_flag(request, "latest"))
    services.metrics.docs.labels("out").inc(sum(len(r["docs"]) for r in result["results"]))
    return _json(result)


async def _bulk_docs(request: Request[Any, Any, Any], services: Services, who: Identity) -> Any:
    body = await _body_json(request, services)
    if not isinstance(body, dict) or not isinstance(body.get("docs"), list):
        raise BadRequest("_bulk_docs takes {\"docs\": [...], \"new_edits\"?: bool}")
    new_edits = body.get("new_edits", True)
    if not isinstance(new_edits, bool):
        raise BadRequest("new_edits must be true or false")
    result = await _run(services.gateway.bulk_docs, who, body["docs"], new_edits=new_edits)
    accepted = len(body["docs"]) - sum(1 for r in result if "error" in r)
    services.metrics.docs.labels("in").inc(accepted)
    services.metrics.refused.inc(len(body["docs"]) - accepted)
    return _json(result, 201)


async def _document(request: Request[Any, Any, Any], services: Services, who: Identity,
                    doc_id: str) -> Any:
    gateway, method = services.gateway, request.method
    local = doc_id.startswith("_local/")
    if method in ("GET", "HEAD"):
        options: dict[str, Any] = {k: _flag(request, k) for k in _DOC_OPTIONS}
        options["rev"] = request.query_params.get("rev")
        options["atts_since"] = _json_param(request, "atts_since")
        open_revs = request.query_params.get("open_revs")
        if open_revs is not None:
            options["open_revs"] = "all" if open_revs == "all" else _json_param(request,
                                                                               "open_revs")
            options.pop("rev")
        result = await _run(gateway.get, who, doc_id, options)
        services.metrics.docs.labels("out").inc(len(result) if isinstance(result, list) else 1)
        accept = request.headers.get("accept", "")
        if isinstance(result, list) and "multipart/mixed" in accept and JSON not in accept:
            body, content_type = mixed_body(result)
            return Response(body, media_type=content_type, status_code=200)
        return _json(result)
    if method == "DELETE":
        if not local:
            raise Forbidden("dossiers and events are append-only: they cannot be deleted")
        rev = request.query_params.get("rev") or ""
        return _json(await _run(gateway.delete_local, who, doc_id, rev))
    if method != "PUT":
        raise BadRequest(f"{method} is not allowed on a document")
    content_type = request.headers.get("content-type", "")
    streams = None
    if content_type.startswith("multipart/related"):
        doc, raw = parse_related(await _body(request, services), content_type)
        streams = {name: [data] for name, data in raw.items()}
    else:
        doc = await _body_json(request, services)
    if not isinstance(doc, dict):
        raise BadRequest("a document must be a JSON object")
    if doc.setdefault("_id", doc_id) != doc_id:
        raise BadRequest(f"the body's _id {doc['_id']!r} differs from the URL's {doc_id!r}")
    if local:
        return _json(await _run(gateway.put_local, who, doc_id, doc), 201)
    new_edits = request.query_params.get("new_edits", "true") != "false"
    result = await _run(gateway.put, who, doc, new_edits=new_edits, streams=streams)
    services.metrics.docs.labels("in").inc()
    return _json(result, 201)


async def _attachment(request: Request[Any, Any, Any], services: Services, who: Identity,
                      doc_id: str, name: str) -> Any:
    if request.method not in ("GET", "HEAD"):
        raise Forbidden("attachments are written inside their document (_bulk_docs or PUT)")
    reader = await _run(services.gateway.attachment, who, doc_id, name,
                        request.query_params.get("rev"))
    headers = {"Content-Length": str(reader.length), "ETag": f'"{reader.digest}"'}
    if request.method == "HEAD":
        return Response(b"", media_type=reader.content_type, headers=headers, status_code=200)

    async def chunks() -> AsyncIterator[bytes]:
        iterator = iter(reader)
        while True:
            chunk = await _run(next, iterator, None)
            if chunk is None:
                return
            services.metrics.bytes.labels("out").inc(len(chunk))
            yield chunk

    return Stream(chunks(), media_type=reader.content_type, headers=headers, status_code=200)


ROUTES = [server_root, database, inside]
