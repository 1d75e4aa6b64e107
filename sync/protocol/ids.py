"""Replication ids: one stable id per (source, target, filter) so checkpoints are found again.

Every algorithm ever used is kept, newest first, as CouchDB's `couch_replicator_ids.erl`
does: a replication looks for its checkpoint under the current id, then under older ones,
and writes under the current id, so upgrading the algorithm never restarts a replication
from sequence 0. A peer's identity is its credential-free URL (or store path) plus the user
name, so two users replicating the same pair keep separate checkpoints.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

CURRENT_VERSION = 1


@dataclass(frozen=True, slots=True)
class ReplicationSpec:
    """What makes two replications the same one: direction and filter matter; options like
    batch size, continuous or create_target do not (CouchDB keeps those out of the base id
    its checkpoints are stored under)."""

    source: str
    target: str
    doc_ids: tuple[str, ...] | None = None
    selector: Mapping[str, Any] | None = field(default=None, hash=False)


def _v1(spec: ReplicationSpec) -> str:
    material = [
        1,
        spec.source,
        spec.target,
        sorted(spec.doc_ids) if spec.doc_ids is not None else None,
        spec.selector,
    ]
    text = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


# version -> algorithm; never remove an entry (old checkpoints are looked up by them).
_ALGORITHMS: dict[int, Callable[[ReplicationSpec], str]] = {1: _v1}


def replication_id(spec: ReplicationSpec, version: int = CURRENT_VERSION) -> str:
    """The id (hex, no `_local/` prefix) under which this replication keeps its log."""
    return _ALGORITHMS[version](spec)


def candidate_ids(spec: ReplicationSpec) -> Sequence[tuple[int, str]]:
    """(version, id) pairs to look checkpoints up under, current first."""
    return [(v, _ALGORITHMS[v](spec)) for v in sorted(_ALGORITHMS, reverse=True)]


def new_session_id() -> str:
    return uuid.uuid4().hex
