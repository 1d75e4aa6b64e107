"""Attachments: content-addressed blobs, stored in 64 KiB chunks, streamed in and out.

Guarantees:
* a blob is addressed by its `md5-<base64>` digest (or, in an encrypted database, a keyed
  hash of it), so the same bytes are stored once however many revisions use them;
* data is written and read one chunk at a time and the md5 is computed while streaming,
  so a 50 MB attachment is never whole in memory on the way in or out;
* a declared digest or length that does not match the data is refused (BadRequest);
  a stub naming data the database does not hold is refused (MissingStub);
* blobs are written inside the caller's write transaction, so a failed write leaves no
  reference to them (unreferenced blobs are dropped by compaction).
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from sync.errors import BadRequest, MissingStub, NotFound, TooLarge
from sync.store.crypto import Cipher, chunk_aad

CHUNK_BYTES = 64 * 1024
AttachmentSource = Iterable[bytes] | BinaryIO


class Digester:
    """md5 over data fed piece by piece, in CouchDB's `md5-<base64>` form."""

    def __init__(self) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self.length = 0

    def update(self, data: bytes) -> None:
        self._md5.update(data)
        self.length += len(data)

    @property
    def digest(self) -> str:
        return "md5-" + base64.b64encode(self._md5.digest()).decode("ascii")


def digest_of(data: bytes) -> str:
    digester = Digester()
    digester.update(data)
    return digester.digest


def decode_base64(data: object, name: str) -> bytes:
    """Inline attachment data as bytes. msgspec decodes base64 about 5x as fast as
    `base64.b64decode` (81 against 406 ms for 600 bodies of 200 KB), and as strictly as
    RFC 4648: no whitespace, no padding beyond the last group."""
    if not isinstance(data, str):
        raise BadRequest(f"attachment {name!r}: data must be a base64 string")
    try:
        return msgspec.convert(data, bytes)
    except msgspec.ValidationError:
        raise BadRequest(f"attachment {name!r}: data is not valid base64") from None


def _pieces(source: AttachmentSource) -> Iterator[bytes]:
    """The source's bytes in chunks of at most CHUNK_BYTES (read lazily)."""
    if hasattr(source, "read"):
        reader: BinaryIO = source  # type: ignore[assignment]
        while piece := reader.read(CHUNK_BYTES):
            yield piece
        return
    for block in source:
        if not isinstance(block, bytes | bytearray | memoryview):
            raise BadRequest("attachment stream must yield bytes")
        view = memoryview(block)
        for start in range(0, len(view), CHUNK_BYTES):
            yield bytes(view[start : start + CHUNK_BYTES])


@dataclass(frozen=True, slots=True)
class Blob:
    id: int
    digest: str
    length: int


class BlobStore:
    """Writes and finds blobs through the writer's connection (inside its transaction)."""

    def __init__(self, conn: sqlite3.Connection, cipher: Cipher | None, max_bytes: int):
        self._conn = conn
        self._cipher = cipher
        self._max_bytes = max_bytes

    def key(self, digest: str) -> str:
        return digest if self._cipher is None else self._cipher.blob_key(digest)

    def find(self, digest: str) -> int | None:
        row = self._conn.execute(
            "SELECT id FROM blobs WHERE key = ?", (self.key(digest),)
        ).fetchone()
        return None if row is None else int(row[0])

    def length_of(self, blob_id: int) -> int:
        row = self._conn.execute("SELECT length FROM blobs WHERE id = ?", (blob_id,)).fetchone()
        return int(row[0])

    def put_bytes(self, data: bytes) -> Blob:
        """Store data already whole in memory: its md5 is computed once, before anything is
        written, and nothing is written when a blob with that digest is held."""
        digest = digest_of(data)
        found = self.find(digest)
        if found is not None:
            return Blob(found, digest, len(data))
        self._within_limit(len(data))
        blob_id = self._new_blob()
        for index, piece in enumerate(_pieces([data])):
            self._put_chunk(blob_id, index, piece)
        return self._name_blob(blob_id, digest, len(data))

    def put_stream(self, source: AttachmentSource) -> Blob:
        """Store the source's bytes, de-duplicating against existing blobs at the end."""
        blob_id = self._new_blob()
        digester = Digester()
        for index, piece in enumerate(_pieces(source)):
            digester.update(piece)
            self._within_limit(digester.length)
            self._put_chunk(blob_id, index, piece)
        digest = digest_of(b"") if digester.length == 0 else digester.digest
        existing = self.find(digest)
        if existing is not None:
            self._conn.execute("DELETE FROM chunks WHERE blob_id = ?", (blob_id,))
            self._conn.execute("DELETE FROM blobs WHERE id = ?", (blob_id,))
            return Blob(existing, digest, digester.length)
        return self._name_blob(blob_id, digest, digester.length)

    def _within_limit(self, length: int) -> None:
        if length > self._max_bytes:
            raise TooLarge(f"attachment is larger than the limit of {self._max_bytes} bytes")

    def _new_blob(self) -> int:
        cursor = self._conn.execute("INSERT INTO blobs(key, length) VALUES (NULL, 0)")
        return int(cursor.lastrowid or 0)

    def _put_chunk(self, blob_id: int, index: int, piece: bytes) -> None:
        stored = piece if self._cipher is None else self._cipher.seal(
            piece, chunk_aad(blob_id, index)
        )
        self._conn.execute(
            "INSERT INTO chunks(blob_id, idx, data) VALUES (?, ?, ?)", (blob_id, index, stored)
        )

    def _name_blob(self, blob_id: int, digest: str, length: int) -> Blob:
        self._conn.execute(
            "UPDATE blobs SET key = ?, length = ? WHERE id = ?", (self.key(digest), length, blob_id)
        )
        return Blob(blob_id, digest, length)


@dataclass(frozen=True, slots=True)
class ResolvedAttachments:
    """Attachment metadata to store with a revision, and the blobs it references."""

    meta: dict[str, dict[str, Any]]
    blob_ids: list[int]

    def digests(self) -> list[tuple[str, str]]:
        return [(name, str(att["digest"])) for name, att in self.meta.items()]


NO_ATTACHMENTS = ResolvedAttachments({}, [])


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise BadRequest(f"attachment name must be a non-empty string: {name!r}")
    if name.startswith("_"):
        raise BadRequest(f"attachment name must not start with '_': {name!r}")
    return name


def _content_type(spec: Mapping[str, Any], name: str) -> str:
    content_type = spec.get("content_type", "application/octet-stream")
    if not isinstance(content_type, str):
        raise BadRequest(f"attachment {name!r}: content_type must be a string")
    return content_type


def _check_declared(spec: Mapping[str, Any], blob: Blob, name: str) -> None:
    digest, length = spec.get("digest"), spec.get("length")
    if digest is not None and digest != blob.digest:
        raise BadRequest(f"attachment {name!r}: digest {digest} does not match the data")
    if length is not None and length != blob.length:
        raise BadRequest(
            f"attachment {name!r}: declared length {length} but {blob.length} bytes came"
        )


def resolve(
    raw: Mapping[str, Any] | None,
    *,
    blobs: BlobStore,
    generation: int,
    parent: Mapping[str, Mapping[str, Any]] | None,
    new_edits: bool,
    streams: Mapping[str, AttachmentSource] | None,
) -> ResolvedAttachments:
    """Store new attachment data and resolve stubs, giving the revision's attachments.

    New data gets `revpos` = the new revision's generation (with new_edits=false, the
    revpos the sender declared); a stub keeps its parent's metadata.
    """
    if not raw:
        return NO_ATTACHMENTS
    meta: dict[str, dict[str, Any]] = {}
    blob_ids: list[int] = []
    for name, spec in raw.items():
        _check_name(name)
        if not isinstance(spec, Mapping):
            raise BadRequest(f"attachment {name!r} must be an object")
        if spec.get("stub"):
            entry, blob_id = _resolve_stub(name, spec, blobs, parent, new_edits)
        else:
            blob = _store_data(name, spec, blobs, streams)
            _check_declared(spec, blob, name)
            revpos = spec.get("revpos") if not new_edits else None
            if not isinstance(revpos, int) or isinstance(revpos, bool) or revpos < 1:
                revpos = generation
            entry = {
                "content_type": _content_type(spec, name),
                "digest": blob.digest,
                "length": blob.length,
                "revpos": revpos,
            }
            blob_id = blob.id
        meta[name] = entry
        blob_ids.append(blob_id)
    return ResolvedAttachments(meta, blob_ids)


def _store_data(
    name: str,
    spec: Mapping[str, Any],
    blobs: BlobStore,
    streams: Mapping[str, AttachmentSource] | None,
) -> Blob:
    if spec.get("follows"):
        source = (streams or {}).get(name)
        if source is None:
            raise BadRequest(f"attachment {name!r} says it follows but no stream was given")
        return blobs.put_stream(source)
    if "data" not in spec:
        raise BadRequest(f"attachment {name!r} has neither data, follows nor stub")
    return blobs.put_bytes(decode_base64(spec["data"], name))


def _resolve_stub(
    name: str,
    spec: Mapping[str, Any],
    blobs: BlobStore,
    parent: Mapping[str, Mapping[str, Any]] | None,
    new_edits: bool,
) -> tuple[dict[str, Any], int]:
    known = (parent or {}).get(name)
    digest = spec.get("digest") if known is None else known["digest"]
    blob_id = blobs.find(digest) if isinstance(digest, str) else None
    if blob_id is None:
        raise MissingStub(f"attachment {name!r} is a stub but the database does not hold it")
    if known is not None:
        return dict(known), blob_id
    if new_edits:
        raise MissingStub(f"attachment {name!r} is a stub but the parent revision lacks it")
    length, revpos = spec.get("length"), spec.get("revpos")
    actual = blobs.length_of(blob_id)
    entry = {
        "content_type": _content_type(spec, name),
        "digest": digest,
        "length": length if isinstance(length, int) else actual,
        "revpos": revpos if isinstance(revpos, int) and revpos > 0 else 1,
    }
    return entry, blob_id


def stub(meta: Mapping[str, Any]) -> dict[str, Any]:
    return {**meta, "stub": True}


class AttachmentReader:
    """One stored attachment: its metadata, and its bytes as an iterator of chunks.

    Iterating opens a connection of its own and reads inside one snapshot, so a
    concurrent compaction cannot pull the chunks away half-way; each chunk is decrypted
    and checked as it goes.
    """

    def __init__(
        self,
        path: Path,
        connect: Callable[[Path], sqlite3.Connection],
        blob_key: str,
        meta: Mapping[str, Any],
        cipher: Cipher | None,
    ) -> None:
        self._path = path
        self._connect = connect
        self._blob_key = blob_key
        self._cipher = cipher
        self.content_type: str = str(meta.get("content_type", "application/octet-stream"))
        self.length: int = int(meta["length"])
        self.digest: str = str(meta["digest"])
        self.revpos: int = int(meta["revpos"])

    def __iter__(self) -> Iterator[bytes]:
        conn = self._connect(self._path)
        try:
            conn.execute("BEGIN")
            yield from iter_chunks(conn, self._cipher, self._blob_key, self.digest)
            conn.execute("COMMIT")
        finally:
            conn.close()

    def read(self) -> bytes:
        """All the bytes at once (for small attachments and inline base64)."""
        return b"".join(self)


def iter_chunks(
    conn: sqlite3.Connection, cipher: Cipher | None, blob_key: str, digest: str
) -> Iterator[bytes]:
    """A blob's bytes chunk by chunk, decrypted and checked against its stored length."""
    row = conn.execute("SELECT id, length FROM blobs WHERE key = ?", (blob_key,)).fetchone()
    if row is None:
        raise NotFound(f"attachment data {digest} is not stored")
    blob_id, total = int(row[0]), 0
    rows = conn.execute(
        "SELECT idx, data FROM chunks WHERE blob_id = ? ORDER BY idx", (blob_id,)
    )
    for index, data in rows:
        piece = data if cipher is None else cipher.open(data, chunk_aad(blob_id, index))
        total += len(piece)
        yield piece
    if total != int(row[1]):
        raise NotFound(f"attachment data {digest} is incomplete")
