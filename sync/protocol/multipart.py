"""MIME multipart framing as CouchDB uses it for attachments, without any I/O.

* `related_parts` writes `multipart/related` for `PUT /db/doc?new_edits=false`: the JSON
  document first (attachments marked `"follows": true`), then each attachment's bytes in
  the order the document lists them, as a stream of chunks (bodies are not copied).
* `MultipartReader` splits a `multipart/mixed` or `multipart/related` body fed to it in
  chunks of any size into parts (headers + body); `read_open_revs` turns CouchDB's
  `open_revs` answer (JSON parts, and nested `multipart/related` parts for revisions with
  attachments) into revisions with their attachment bodies.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sync.errors import PeerProtocolError
from sync.protocol.model import Doc, FetchError, Revision

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Part:
    headers: Mapping[str, str]  # lower-cased names
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "text/plain")


def boundary_of(content_type: str) -> str:
    match = _BOUNDARY.search(content_type)
    if match is None:
        raise PeerProtocolError(f"multipart answer without a boundary: {content_type!r}")
    return match.group(1)


def new_boundary() -> str:
    return uuid.uuid4().hex


def _quote(name: str) -> str:
    return name.replace("\\", "\\\\").replace('"', '\\"')


def related_parts(doc: Doc, blobs: Mapping[str, bytes], boundary: str) -> Iterator[bytes]:
    """The body of a `multipart/related; boundary=…` request carrying `doc` and `blobs`."""
    dash = f"--{boundary}".encode()
    yield dash + b"\r\nContent-Type: application/json\r\n\r\n"
    yield json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    for name, att in (doc.get("_attachments") or {}).items():
        if not att.get("follows"):
            continue
        content_type = str(att.get("content_type", "application/octet-stream"))
        yield (
            b"\r\n" + dash + b"\r\n"
            + f'Content-Disposition: attachment; filename="{_quote(name)}"\r\n'.encode()
            + f"Content-Type: {content_type}\r\n".encode()
            + f"Content-Length: {len(blobs[name])}\r\n\r\n".encode()
        )
        yield blobs[name]
    yield b"\r\n" + dash + b"--\r\n"


def _parse_headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.decode("latin-1").split("\r\n"):
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return headers


class MultipartReader:
    """Incremental splitter: `feed` chunks, collect finished `Part`s; `close` checks the end.

    The buffer is scanned only from where the last scan stopped, so a large body fed in
    many small chunks costs linear time.
    """

    def __init__(self, boundary: str) -> None:
        self._delimiter = b"\r\n--" + boundary.encode()
        self._buffer = bytearray(b"\r\n")  # so the first delimiter looks like the others
        self._scan_from = 0
        self._started = False
        self._finished = False
        self.parts: list[Part] = []

    def feed(self, chunk: bytes) -> None:
        if self._finished:
            return
        self._buffer += chunk
        while not self._finished and self._next_delimiter():
            pass

    def _next_delimiter(self) -> bool:
        at = self._buffer.find(self._delimiter, self._scan_from)
        if at < 0:
            self._scan_from = max(0, len(self._buffer) - len(self._delimiter))
            return False
        after = at + len(self._delimiter)
        if len(self._buffer) < after + 2:
            self._scan_from = at
            return False  # cannot tell yet whether this is the closing delimiter
        closing = self._buffer[after : after + 2] == b"--"
        line_end = -1 if closing else self._buffer.find(b"\r\n", after)
        if not closing and line_end < 0:
            self._scan_from = at
            return False
        if self._started:
            self._add_part(bytes(self._buffer[:at]))
        self._started = True
        if closing:
            self._finished = True
            self._buffer = bytearray()
            return False
        del self._buffer[: line_end + 2]
        self._scan_from = 0
        return True

    def _add_part(self, raw: bytes) -> None:
        if raw.startswith(b"\r\n"):  # a part with no headers
            self.parts.append(Part({}, raw[2:]))
            return
        head, _, body = raw.partition(b"\r\n\r\n")
        self.parts.append(Part(_parse_headers(head), body))

    def close(self) -> list[Part]:
        if not self._finished:
            raise PeerProtocolError("multipart answer ended before its closing boundary")
        return self.parts


def read_parts(chunks: Iterable[bytes], content_type: str) -> list[Part]:
    reader = MultipartReader(boundary_of(content_type))
    for chunk in chunks:
        reader.feed(chunk)
    return reader.close()


def _filename(headers: Mapping[str, str]) -> str | None:
    disposition = headers.get("content-disposition", "")
    match = re.search(r'filename="((?:[^"\\]|\\.)*)"', disposition)
    if match:
        return re.sub(r"\\(.)", r"\1", match.group(1))
    return None


def _revision_from_related(part: Part) -> Revision:
    inner = read_parts([part.body], part.content_type)
    if not inner:
        raise PeerProtocolError("empty multipart/related part in open_revs answer")
    doc: dict[str, Any] = json.loads(inner[0].body)
    follows = [n for n, a in (doc.get("_attachments") or {}).items() if a.get("follows")]
    blobs: dict[str, bytes] = {}
    for index, sub in enumerate(inner[1:]):
        name = _filename(sub.headers)
        if name is None and index < len(follows):
            name = follows[index]  # CouchDB sends them in the order the document lists them
        if name is None:
            raise PeerProtocolError("attachment part without a name in open_revs answer")
        blobs[name] = sub.body
    missing = [n for n in follows if n not in blobs]
    if missing:
        raise PeerProtocolError(f"open_revs answer lacks attachment bodies for {missing}")
    return Revision(doc, blobs)


def read_open_revs(doc_id: str, parts: Iterable[Part]) -> list[Revision | FetchError]:
    """Revisions from a `multipart/mixed` `open_revs` answer."""
    results: list[Revision | FetchError] = []
    for part in parts:
        if part.content_type.startswith("multipart/related"):
            results.append(_revision_from_related(part))
            continue
        item = json.loads(part.body)
        if isinstance(item, dict) and "missing" in item and "_id" not in item:
            results.append(FetchError(doc_id, str(item["missing"]), "not_found", "missing"))
        elif isinstance(item, dict) and "_id" in item:
            results.append(Revision(item))
        else:
            raise PeerProtocolError(f"unexpected part in open_revs answer for {doc_id!r}")
    return results
