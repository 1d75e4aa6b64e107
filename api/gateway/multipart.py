"""CouchDB's multipart bodies: `multipart/related` documents in, `multipart/mixed` revisions out.

Parsing is bounded by the request size the caller already checked; a body that breaks
the format raises `BadRequest` naming what is wrong, never anything else.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from sync.errors import BadRequest


def boundary_of(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "boundary" and value:
            return value.strip('"')
    raise BadRequest("multipart body without a boundary parameter")


def _split_parts(body: bytes, boundary: str) -> list[tuple[dict[str, str], bytes]]:
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        raise BadRequest("broken multipart body: missing parts or closing boundary")
    parts = []
    for chunk in chunks[1:-1]:
        # The chunk starts with the CRLF that ended the boundary line; a part without
        # headers is then "\r\n\r\n<body>", which the same split handles.
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise BadRequest("broken multipart body: a part has no header/body separator")
        headers = {}
        for line in head.split(b"\r\n"):
            if line:
                name, colon, value = line.decode("latin-1").partition(":")
                if not colon:
                    raise BadRequest(f"broken multipart body: bad header line {line[:60]!r}")
                headers[name.strip().lower()] = value.strip()
        parts.append((headers, content.removesuffix(b"\r\n")))
    return parts


def parse_related(body: bytes, content_type: str) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The document (first part) and the bytes of each `follows` attachment, by name."""
    parts = _split_parts(body, boundary_of(content_type))
    try:
        doc = json.loads(parts[0][1])
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the first multipart part is not a JSON document: {exc}") from None
    if not isinstance(doc, dict):
        raise BadRequest("the first multipart part must be a JSON object")
    follows = [name for name, att in (doc.get("_attachments") or {}).items()
               if isinstance(att, dict) and att.get("follows")]
    rest = parts[1:]
    if len(rest) != len(follows):
        raise BadRequest(f"multipart body has {len(rest)} attachment parts for "
                         f"{len(follows)} attachments marked follows")
    streams = {}
    for name, (headers, content) in zip(follows, rest, strict=True):
        disposition = headers.get("content-disposition", "")
        if "filename=" in disposition:
            name = disposition.split("filename=", 1)[1].strip('"; ')
        streams[name] = content
    return doc, streams


def mixed_body(items: list[dict[str, Any]]) -> tuple[bytes, str]:
    """open_revs results as multipart/mixed: one JSON part per revision (attachments inline)."""
    boundary = secrets.token_hex(16)
    out = bytearray()
    for item in items:
        out += f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode()
        if "ok" in item:
            out += json.dumps(item["ok"]).encode()
        else:
            out += json.dumps({"missing": item.get("missing")}).encode()
        out += b"\r\n"
    out += f"--{boundary}--".encode()
    return bytes(out), f'multipart/mixed; boundary="{boundary}"'
