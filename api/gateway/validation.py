"""What an officer's device may write through the gateway: pure rules, no I/O.

A write passes only if it is a dossier or an event of the domain's current schema (checked
by decoding it into `dossiers.models`), owned by the writing officer (`officer_id` or
`actor`, and `officer:<username>` in its access and no other officer's), not a deletion
(state changes are append-only events), and, when the document already exists, identical
in content and attachments to what is stored (a dossier is signed on the device and never
changes afterwards). Refusals name the rule in `reason`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from dossiers.models import SCHEMA_VERSION, Dossier, Event
from sync.errors import BadRequest
from sync.store import decode_base64, digest_of

WRITABLE = {"dossier": Dossier, "event": Event}


@dataclass(frozen=True)
class Refusal:
    error: str
    reason: str

    def row(self, doc_id: object, rev: object) -> dict[str, Any]:
        row: dict[str, Any] = {"id": doc_id, "error": self.error, "reason": self.reason}
        if isinstance(rev, str):
            row["rev"] = rev
        return row


@dataclass(frozen=True)
class WriteLimits:
    max_document_bytes: int
    max_attachment_bytes: int


def body_of(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def _digest_of(name: str, data: object) -> str | None:
    """CouchDB's `md5-<base64>` digest of inline base64 data (None if there is none); the
    data was found valid by `_check_size`."""
    return digest_of(decode_base64(data, name)) if isinstance(data, str) else None


def check_write(
    username: str, doc: object, existing: dict[str, Any] | None, limits: WriteLimits
) -> Refusal | None:
    """None if the officer may write `doc`; else why not. `existing`: the stored winner."""
    if not isinstance(doc, dict):
        return Refusal("bad_request", "a document must be a JSON object")
    doc_id = doc.get("_id")
    if not isinstance(doc_id, str) or not doc_id:
        return Refusal("bad_request", "a document needs a string _id")
    if doc_id.startswith("_"):
        return Refusal("forbidden", f"{doc_id.split('/')[0]} documents cannot be written "
                                    "through the sync gateway")
    if doc.get("_deleted"):
        return Refusal("forbidden", "dossiers and events are append-only: they cannot be deleted")
    return (
        _check_size(doc, limits)
        or _check_model(username, body_of(doc))
        or _check_existing(username, doc, existing)
    )


def _check_size(doc: dict[str, Any], limits: WriteLimits) -> Refusal | None:
    attachments = doc.get("_attachments") or {}
    if not isinstance(attachments, dict):
        return Refusal("bad_request", "_attachments must be an object")
    for name, att in attachments.items():
        data = att.get("data") if isinstance(att, dict) else None
        if isinstance(data, str):
            try:
                size = len(decode_base64(data, name))
            except BadRequest as exc:
                return Refusal("bad_request", exc.reason)
        elif isinstance(att, dict) and isinstance(att.get("length"), int):
            size = att["length"]
        else:
            continue
        if size > limits.max_attachment_bytes:
            return Refusal("too_large", f"attachment {name!r} is {size} bytes; the limit is "
                                        f"{limits.max_attachment_bytes}")
    size = len(msgspec.json.encode({k: v for k, v in doc.items() if k != "_attachments"}))
    if size > limits.max_document_bytes:
        return Refusal("too_large", f"the document is {size} bytes; the limit is "
                                    f"{limits.max_document_bytes}")
    return None


def _check_model(username: str, body: dict[str, Any]) -> Refusal | None:
    kind = body.get("type")
    model = WRITABLE.get(kind) if isinstance(kind, str) else None
    if model is None:
        return Refusal("forbidden", f"a device may write only dossiers and events, not "
                                    f"type {kind!r}")
    if body.get("schema", SCHEMA_VERSION) != SCHEMA_VERSION:
        return Refusal("forbidden", f"unsupported {kind} schema {body.get('schema')!r}; "
                                    f"this server reads schema {SCHEMA_VERSION}")
    try:
        value = msgspec.convert(body, model, strict=False)
    except msgspec.ValidationError as exc:
        return Refusal("forbidden", f"invalid {kind}: {exc}")
    owner = value.officer_id if isinstance(value, Dossier) else value.actor
    if owner != username:
        return Refusal("forbidden", f"{kind} belongs to officer {owner!r}, not {username!r}")
    if isinstance(value, Event) and value.role != "officer":
        return Refusal("forbidden", "a device writes only officer events")
    mine = f"officer:{username}"
    others = [p for p in value.access if p.startswith("officer:") and p != mine]
    if mine not in value.access or others:
        return Refusal("forbidden", f"access must include {mine!r} and no other officer")
    return None


def _check_existing(
    username: str, doc: dict[str, Any], existing: dict[str, Any] | None
) -> Refusal | None:
    if existing is None or existing.get("_deleted"):
        return None
    old = body_of(existing)
    owner = old.get("officer_id", old.get("actor"))
    if owner != username:
        return Refusal("forbidden", "the document exists and belongs to someone else")
    if old != body_of(doc):
        return Refusal("forbidden", "signed content cannot change after signing: "
                                    "record a change as a new event")
    new_atts = doc.get("_attachments") or {}
    for name, att in (existing.get("_attachments") or {}).items():
        incoming = new_atts.get(name)
        if not isinstance(incoming, dict):
            return Refusal("forbidden", f"attachment {name!r} of a signed document cannot "
                                        "be removed")
        digest = incoming.get("digest") or _digest_of(name, incoming.get("data"))
        if digest is not None and digest != att.get("digest"):
            return Refusal("forbidden", f"attachment {name!r} of a signed document cannot "
                                        "change")
    return None
