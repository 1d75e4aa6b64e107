"""Documents at the store's boundary: validating what comes in, shaping what goes out.

Pure functions. An incoming document is split into its id, its special `_` members and its
body (the user's fields, stored and hashed); anything malformed is refused with a
BadRequest naming the fault, before the database is touched. Outgoing documents are built
back in CouchDB's shape: `_id`, `_rev`, the body, then the special members asked for.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from sync import revtree
from sync.errors import BadRequest, TooLarge

MAX_ID_BYTES = 1024
LOCAL_PREFIX = "_local/"
DESIGN_PREFIX = "_design/"
# Special members a writer may send; the second set is output-only and ignored on input.
_SPECIAL = frozenset({"_id", "_rev", "_deleted", "_attachments", "_revisions"})
_IGNORED = frozenset({"_conflicts", "_deleted_conflicts", "_revs_info", "_local_seq"})


@dataclass(slots=True)
class Incoming:
    """One document to write, split up and checked."""

    id: str
    rev: str | None
    deleted: bool
    body: dict[str, Any]
    attachments: dict[str, Any] | None
    revisions: tuple[int, list[str]] | None


def parse_json(raw: bytes | str) -> Any:
    """Decode JSON from a client, or BadRequest saying where it is broken."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"invalid JSON: {exc}") from None
    except RecursionError:
        raise BadRequest("invalid JSON: nested too deeply") from None


def check_doc_id(doc_id: object) -> str:
    """A legal document id (not `_local/`), or BadRequest naming the problem."""
    if (  # the common case, cheaply: an ASCII id is one byte per character
        isinstance(doc_id, str)
        and doc_id.isascii()
        and 0 < len(doc_id) <= MAX_ID_BYTES
        and doc_id[0] != "_"
    ):
        return doc_id
    if not isinstance(doc_id, str):
        raise BadRequest(f"document id must be a string, not {type(doc_id).__name__}")
    if not doc_id:
        raise BadRequest("document id must not be empty")
    try:
        size = len(doc_id.encode("utf-8"))
    except UnicodeEncodeError:
        raise BadRequest("document id is not valid Unicode text") from None
    if size > MAX_ID_BYTES:
        raise BadRequest(f"document id is {size} bytes long; the limit is {MAX_ID_BYTES}")
    if doc_id.startswith("_") and not doc_id.startswith(DESIGN_PREFIX):
        raise BadRequest(
            f"illegal document id {doc_id[:80]!r}: only _design/ and _local/ ids may "
            "start with an underscore"
        )
    return doc_id


def check_local_id(doc_id: object) -> str:
    """A `_local/…` id (the prefix is required), or BadRequest."""
    if not isinstance(doc_id, str) or not doc_id.startswith(LOCAL_PREFIX):
        raise BadRequest(f"local document id must start with {LOCAL_PREFIX!r}: {doc_id!r}")
    rest = doc_id[len(LOCAL_PREFIX) :]
    if not rest:
        raise BadRequest("local document id must not be empty after _local/")
    check_doc_id("x" + rest)
    return doc_id


def new_doc_id() -> str:
    return uuid.uuid4().hex


def _check_revisions(value: object, rev: str | None) -> tuple[int, list[str]]:
    if not isinstance(value, Mapping):
        raise BadRequest("_revisions must be an object {start, ids}")
    start, ids = value.get("start"), value.get("ids")
    if not isinstance(start, int) or isinstance(start, bool) or start < 1:
        raise BadRequest(f"_revisions.start must be a positive integer, not {start!r}")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise BadRequest("_revisions.ids must be a non-empty list of rev hashes")
    if start < len(ids):
        raise BadRequest(f"_revisions.start {start} is smaller than its {len(ids)} ids")
    for rev_hash in ids:
        revtree.parse_rev(f"1-{rev_hash}")
    if rev is not None and rev != f"{start}-{ids[0]}":
        raise BadRequest(f"_rev {rev} does not match _revisions ({start}-{ids[0]})")
    return start, list(ids)


def _body_of(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The user's members of `doc`: a C-level copy minus the specials, which costs a
    fraction of a comprehension testing every key; BadRequest for an unknown `_` member."""
    body = dict(doc)
    body.pop("_id", None)
    body.pop("_rev", None)
    try:
        # Every name starting with "_" sorts below "`" (the next code point), so one
        # C-level min() proves the common case, no special member left, at half the
        # cost of testing each name; names below "`" (capitals, digits) take the long way.
        plain = not body or min(body) >= "`"
    except TypeError:  # a name that is not a string
        plain = False
    if not plain:
        for key in list(body):
            if not isinstance(key, str):
                raise BadRequest(f"document member names must be strings: {key!r}")
            if key.startswith("_"):  # rarer specials (_deleted, _attachments, …), or a bad one
                if key not in _SPECIAL and key not in _IGNORED:
                    raise BadRequest(f"bad special document member: {key}")
                del body[key]
    return body


def split(doc: object, *, new_edits: bool) -> Incoming:
    """Check a document to write and split it into id, specials and body."""
    if type(doc) is not dict and not isinstance(doc, Mapping):  # exact dict: skip the ABC check
        raise BadRequest(f"a document must be a JSON object, not {type(doc).__name__}")
    doc_id = check_doc_id(doc["_id"]) if "_id" in doc else new_doc_id()
    rev = doc.get("_rev")
    if rev is not None:
        revtree.parse_rev(rev)
    body = _body_of(doc)
    deleted = doc.get("_deleted", False)
    if not isinstance(deleted, bool):
        raise BadRequest(f"_deleted must be true or false, not {deleted!r}")
    attachments = doc.get("_attachments")
    if attachments is not None and not isinstance(attachments, Mapping):
        raise BadRequest("_attachments must be an object")
    revisions = None
    if "_revisions" in doc and not new_edits:
        revisions = _check_revisions(doc["_revisions"], rev)
    if not new_edits and rev is None:
        if revisions is None:
            raise BadRequest(f"document {doc_id!r}: new_edits=false needs a _rev")
        rev = f"{revisions[0]}-{revisions[1][0]}"
    return Incoming(
        doc_id, rev, deleted, body, dict(attachments) if attachments else None, revisions
    )


def canonical_body(body: Mapping[str, Any], max_bytes: int) -> bytes:
    """`body` as canonical JSON (what its rev id hashes and what is stored), checked to be
    plain JSON (no NaN, no foreign types) and no larger than `max_bytes`."""
    try:
        data = revtree.canonical_json(body)
    except (TypeError, ValueError, OverflowError, RecursionError, msgspec.EncodeError) as exc:
        raise BadRequest(f"document body is not valid JSON: {exc}") from None
    if len(data) > max_bytes:
        raise TooLarge(f"document body is {len(data)} bytes; the limit is {max_bytes}")
    return data


def render(
    doc_id: str, rev: str, body: Mapping[str, Any], deleted: bool
) -> dict[str, Any]:
    """A document in CouchDB's shape, without optional special members."""
    doc: dict[str, Any] = {"_id": doc_id, "_rev": rev}
    doc.update(body)
    if deleted:
        doc["_deleted"] = True
    return doc


def revisions_of(tree: revtree.RevTree, rev: str) -> dict[str, Any]:
    """`_revisions` for `rev`: its generation and the known ancestor hashes."""
    pos, _ = revtree.parse_rev(rev)
    return {"start": pos, "ids": revtree.ancestry(tree, rev)}


def project(doc: Mapping[str, Any], fields: list[str]) -> dict[str, Any]:
    """Mango `fields`: only the named (dotted) paths, plus nothing else."""
    result: dict[str, Any] = {}
    for path in fields:
        parts = path.split(".")
        value: Any = doc
        for part in parts:
            if not isinstance(value, Mapping) or part not in value:
                break
            value = value[part]
        else:
            target = result
            for part in parts[:-1]:
                target = target.setdefault(part, {})
            target[parts[-1]] = value
    return result
