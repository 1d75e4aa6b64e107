"""Checkpoint arithmetic and replication logs, as pure code.

`SeqTracker` is the rule that makes resuming safe: batches of changes are handed to workers
in feed order and may finish in any order; the checkpoint may only move to the last
sequence of a batch when that batch *and every batch before it* are done. Sequences are
opaque, so order is the order the feed gave them, never a comparison of values.

`start_seq` reads the two replication logs (source and target) the way the protocol says:
same session → its `source_last_seq`; otherwise the newest session both histories share;
otherwise start from scratch. `next_log` builds the log to write, keeping the last
`HISTORY_LIMIT` sessions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.protocol.model import Seq

LOG_VERSION = 1
HISTORY_LIMIT = 50


@dataclass(slots=True)
class SeqTracker:
    """Batches in flight, in feed order; the checkpointable sequence is below every gap."""

    start: Seq
    _pending: dict[int, Seq] = field(default_factory=dict)  # ticket -> batch's last seq
    _done: set[int] = field(default_factory=set)
    _next_ticket: int = 0
    _floor: int = 0  # every ticket below this is done and folded into `start`

    def begin(self, last_seq: Seq) -> int:
        """Register a batch that ends at `last_seq`; returns its ticket."""
        ticket = self._next_ticket
        self._next_ticket += 1
        self._pending[ticket] = last_seq
        return ticket

    def finish(self, ticket: int) -> None:
        if ticket not in self._pending or ticket in self._done:
            raise ValueError(f"batch {ticket} is not in flight")
        self._done.add(ticket)
        while self._floor in self._done:
            self._done.discard(self._floor)
            self.start = self._pending.pop(self._floor)
            self._floor += 1

    @property
    def checkpointable(self) -> Seq:
        """The highest sequence below which every change has been copied."""
        return self.start

    @property
    def in_flight(self) -> int:
        return len(self._pending)


@dataclass(frozen=True, slots=True)
class SessionStats:
    missing_checked: int = 0
    missing_found: int = 0
    docs_read: int = 0
    docs_written: int = 0
    doc_write_failures: int = 0


def _history(log: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if not log:
        return []
    history = log.get("history")
    return [h for h in history if isinstance(h, Mapping)] if isinstance(history, list) else []


def start_seq(source_log: Mapping[str, Any] | None, target_log: Mapping[str, Any] | None) -> Seq:
    """Where to resume, from the two logs (either may be None: not found). 0 = from scratch."""
    if not source_log or not target_log:
        return 0
    session = source_log.get("session_id")
    if session is not None and session == target_log.get("session_id"):
        return source_log.get("source_last_seq", 0)
    target_sessions = {h.get("session_id"): h for h in _history(target_log)}
    for entry in _history(source_log):  # newest first
        if entry.get("session_id") in target_sessions:
            return entry.get("recorded_seq", 0)
    return 0


def start_seq_target_only(target_log: Mapping[str, Any] | None) -> Seq:
    """With checkpoints on the target only, the target's log alone decides."""
    if not target_log:
        return 0
    return target_log.get("source_last_seq", 0)


def next_log(
    previous: Mapping[str, Any] | None,
    *,
    replication_id_version: int,
    session_id: str,
    start_time: str,
    end_time: str,
    start_last_seq: Seq,
    recorded_seq: Seq,
    stats: SessionStats,
) -> dict[str, Any]:
    """The replication log to store after a checkpoint (without `_id`/`_rev`)."""
    entry = {
        "session_id": session_id,
        "start_time": start_time,
        "end_time": end_time,
        "start_last_seq": start_last_seq,
        "end_last_seq": recorded_seq,
        "recorded_seq": recorded_seq,
        "missing_checked": stats.missing_checked,
        "missing_found": stats.missing_found,
        "docs_read": stats.docs_read,
        "docs_written": stats.docs_written,
        "doc_write_failures": stats.doc_write_failures,
    }
    older = [h for h in _history(previous) if h.get("session_id") != session_id]
    return {
        "log_version": LOG_VERSION,
        "replication_id_version": replication_id_version,
        "session_id": session_id,
        "source_last_seq": recorded_seq,
        "history": [entry, *older][:HISTORY_LIMIT],
    }
