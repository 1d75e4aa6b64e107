"""The replication protocol as generators of peer calls: no sockets, no threads, no clocks.

Each step is a generator that yields `Call`s (which peer, which operation, which
arguments) and is sent each call's result, or has the peer's error thrown into it. A driver
(`sync.replicator`) runs them against real peers; unit tests run them against answers
written by hand. The steps are CouchDB's (protocol.rst, `couch_replicator_worker.erl`):

* `open_session`: read both peers' info and the logs under the replication id, all at
  once (creating the target if asked; looking under older id versions if the target has
  no log), and the sequence to resume from.
* `copy_batch`: for one batch of changes, ask the target which revisions it lacks
  (`_revs_diff`), fetch them from the source (`_bulk_get` without attachment bodies, falling
  back to `open_revs` when the source lacks `_bulk_get`; the bodies of attachments the
  target does not hold are then fetched per group, `atts_since` deciding which), and
  write them with
  `new_edits: false` (`_bulk_docs`, halving on 413; revisions with attachment bodies apart,
  multipart where the peer can). Documents with attachment bodies to copy go in groups of
  at most `APART_BYTES` of attachments for a target that takes bodies apart, else growing
  from `HEAVY_BYTES` to what one `_bulk_docs` holds (by the stubs' `length`; a larger
  document goes alone), each group fetched then written (`put_revisions`: one transaction
  in the store, one PUT after another over HTTP) as one `Fork` branch, so a driver
  overlaps the source's reads with the target's writes while holding at most a few groups
  in memory.
  A revision the target refuses is reported, the rest go on; a missing stub is fetched
  again in full.
* `record_checkpoint`: `_ensure_full_commit`, then the log on the target (and the source,
  unless checkpoints are target-only).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from sync.errors import MissingStub, NotFound, NotSupported, TooLarge
from sync.protocol import checkpoint as ckpt
from sync.protocol.ids import ReplicationSpec, candidate_ids, new_session_id
from sync.protocol.model import (
    BodiesWanted,
    Change,
    Doc,
    FetchError,
    Missing,
    PeerInfo,
    Revision,
    Seq,
    Wanted,
    WriteFailure,
    generation,
)

Side = Literal["source", "target"]
# Inline attachment data (base64) per `_bulk_docs` request. Each request has a fixed cost
# on the server (PouchDB Server spends ~30% more CPU on 7-document requests than on one of
# 200), and a larger one only costs memory; a server with a smaller limit answers 413 and
# the batch halves.
BULK_BYTES = 24 * 1024 * 1024
BULK_GROUP_BYTES = BULK_BYTES * 3 // 4  # attachment bytes whose base64 fills one request
HEAVY_BYTES = 6 * 1024 * 1024  # a bulk write's first group of attachment bytes, then doubling
# Attachment bytes per fetch-then-write group when the target takes bodies apart (a pull
# into the store). The source builds each group's answer whole: PouchDB Server alone hands
# out 200 x 600 KB at 297 docs/s in answers of 5 documents (5 at once), 276 in answers of
# 10 (6 at once), on 4% less CPU; our pull of them went 236 -> 249 docs/s (2026-12-05;
# 10 and 24 alternating rounds).
APART_BYTES = 3 * 1024 * 1024
IN_FLIGHT_BYTES = 40 * 1024 * 1024  # attachment bytes fetched and not yet written, at most
PROBE_EVERY = 10
ALL_MISSING = 0.98  # share of revisions missing above which `_revs_diff` is skipped
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Call:
    """One operation the core wants a peer to perform (a method of `sync.peers.Peer`)."""

    side: Side
    method: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Parallel:
    """Calls that do not depend on each other: a driver may run them concurrently. It
    sends back one entry per call, in order: the result, or the peer's error object."""

    calls: tuple[Call, ...]


@dataclass(frozen=True, slots=True)
class Fork:
    """Sub-flows that do not depend on each other: a driver may run them concurrently
    (each with its calls one after another). `weights`, when given, are the attachment
    bytes each flow holds while it runs: a driver keeps their sum within its budget
    (`IN_FLIGHT_BYTES`). It sends back one entry per flow, in order: its result; an error
    that ends a flow is raised once every flow has ended."""

    flows: tuple[Generator[Call | Parallel | Fork, Any, Any], ...]
    weights: tuple[int, ...] = ()


Flow = Generator[Call | Parallel | Fork, Any, T]


@dataclass(slots=True)
class Session:
    """What one run of a replication knows between steps."""

    spec: ReplicationSpec
    replication_id: str
    id_version: int
    session_id: str
    start_seq: Seq
    source_info: PeerInfo
    target_info: PeerInfo
    target_only: bool
    logs: dict[Side, Doc | None]
    use_bulk_get: bool = True
    stats: ckpt.SessionStats = field(default_factory=ckpt.SessionStats)
    # CouchDB's shortcut: while nearly every revision turns out missing (a first sync),
    # skip `_revs_diff` and send them all (writes with new_edits:false are idempotent),
    # asking again every PROBE_EVERY batches.
    skip_revs_diff: bool = False
    batches_since_probe: int = 0

    @property
    def log_id(self) -> str:
        return f"_local/{self.replication_id}"


@dataclass(frozen=True, slots=True)
class BatchResult:
    missing_checked: int = 0
    missing_found: int = 0
    docs_read: int = 0
    docs_written: int = 0
    failures: tuple[WriteFailure | FetchError, ...] = ()


def open_session(
    spec: ReplicationSpec, *, create_target: bool, target_only: bool, use_bulk_get: bool = True
) -> Flow[Session]:
    # Both databases' info and the current id's logs do not depend on each other: asked
    # together, they cost the slowest one's round trips, not the sum (over a 0.2 s round
    # trip, a no-op pull into the store took 0.82 s before, 0.62 s after; between two HTTP
    # peers, 1.43 s before, 0.62 s after).
    candidates = candidate_ids(spec)
    current = candidates[0]
    sides: tuple[Side, ...] = ("target",) if target_only else ("target", "source")
    log_id = f"_local/{current[1]}"
    answers = yield Parallel((Call("source", "info"), Call("target", "info"),
                              *(Call(side, "get_local", (log_id,)) for side in sides)))
    source_info: PeerInfo = _result(answers[0])
    log_answers = answers[2:]
    if isinstance(answers[1], NotFound) and create_target:
        yield Call("target", "create")
        target_info: PeerInfo = yield Call("target", "info")
        log_answers = [None, *answers[3:]]  # a database just created holds no log
    else:
        target_info = _result(answers[1])
    logs: dict[Side, Doc | None] = {"source": None, "target": None}
    logs.update(zip(sides, (_result(answer) for answer in log_answers), strict=True))
    found = current if logs["target"] is not None else None
    for version, rep_id in candidates[1:] if found is None else ():
        logs["target"] = yield Call("target", "get_local", (f"_local/{rep_id}",))
        if not target_only:
            logs["source"] = yield Call("source", "get_local", (f"_local/{rep_id}",))
        if logs["target"] is not None:
            found = (version, rep_id)
            break
    if target_only:
        start = ckpt.start_seq_target_only(logs["target"])
    else:
        start = ckpt.start_seq(logs["source"], logs["target"])
    if found is not None and found != current:
        # Found under an older id: carry its history over, but write under the current id
        # (the old documents have other ids, so their `_rev`s do not apply).
        logs = {side: _without_rev(log) for side, log in logs.items()}
    version, rep_id = current
    return Session(
        spec=spec,
        replication_id=rep_id,
        id_version=version,
        session_id=new_session_id(),
        start_seq=start,
        source_info=source_info,
        target_info=target_info,
        target_only=target_only,
        logs=logs,
        use_bulk_get=use_bulk_get,
    )


def _result(answer: Any) -> Any:
    """One entry of a `Parallel` answer: the peer's error is raised here."""
    if isinstance(answer, Exception):
        raise answer
    return answer


def _without_rev(log: Doc | None) -> Doc | None:
    return None if log is None else {k: v for k, v in log.items() if k not in ("_id", "_rev")}


def _revs_by_doc(changes: Sequence[Change]) -> dict[str, list[str]]:
    revs: dict[str, list[str]] = {}
    for change in changes:
        known = revs.setdefault(change.id, [])
        known.extend(rev for rev in change.revs if rev not in known)
    return revs


def _taken_from_feed(
    changes: Sequence[Change], wanted: list[Wanted]
) -> tuple[list[Revision], list[Wanted]]:
    """Revisions the feed already carried: a first-generation winner (its history is
    itself), with its attachments as stubs that say what to fetch (`revpos`, `length`).
    PouchDB's replicator makes the same shortcut for first revisions; it saves the source
    a `_bulk_get`, and the bodies of a first sync start flowing one round trip sooner."""
    bodies = {c.id: c.doc for c in changes if c.doc is not None}
    taken: list[Revision] = []
    rest: list[Wanted] = []
    for w in wanted:
        doc = bodies.get(w.id)
        if (doc is None or doc.get("_rev") != w.rev or generation(w.rev) != 1
                or not _described(doc.get("_attachments"))):
            rest.append(w)
            continue
        rev_hash = w.rev.partition("-")[2]
        taken.append(Revision({**doc, "_revisions": {"start": 1, "ids": [rev_hash]}}))
    return taken, rest


def _described(atts: Any) -> bool:
    """No attachments, or stubs each saying which revision added it and how long it is."""
    if atts is None:
        return True
    return isinstance(atts, dict) and all(
        isinstance(att, dict) and att.get("stub") is True
        and isinstance(att.get("revpos"), int) and att["revpos"] >= 1
        and isinstance(att.get("length"), int)
        for att in atts.values()
    )


def docs_in_feed(session: Session) -> bool:
    """Ask the feed for bodies only on a first sync, where nearly every one is used."""
    return _first_sync(session)


def _first_sync(session: Session) -> bool:
    """Only a replication from scratch into an empty target may skip `_revs_diff`: a
    resumed one must not re-send what an interrupted run already wrote."""
    return session.start_seq == 0 and session.target_info.doc_count == 0


def _missing_bytes(revision: Revision, atts_since: Sequence[str]) -> int | None:
    """The size of the attachments newer than every ancestor the target holds (CouchDB's
    `atts_since` rule) that came as stubs, or None when there is none: those bodies must
    be fetched and sent."""
    wanted = BodiesWanted(revision, tuple(atts_since))
    sizes = [  # a stub without `length` counts as a whole group: never many held at once
        int(att["length"]) if isinstance(att.get("length"), int) else HEAVY_BYTES
        for att in revision.attachments().values()
        if wanted.needs(att) and not (att.get("data") or att.get("follows"))
    ]
    return sum(sizes) if sizes else None


def copy_batch(session: Session, changes: Sequence[Change]) -> Flow[BatchResult]:
    """Copy every revision in `changes` that the target lacks."""
    revs = _revs_by_doc(changes)
    checked = sum(len(v) for v in revs.values())
    if session.skip_revs_diff and session.batches_since_probe < PROBE_EVERY:
        session.batches_since_probe += 1
        wanted = [Wanted(doc_id, rev) for doc_id, doc_revs in revs.items() for rev in doc_revs]
    else:
        missing: list[Missing] = yield Call("target", "revs_diff", (revs,))
        wanted = [Wanted(m.id, rev, m.possible_ancestors) for m in missing for rev in m.missing]
        session.batches_since_probe = 0
        session.skip_revs_diff = (
            _first_sync(session) and checked >= 100 and len(wanted) >= ALL_MISSING * checked
        )
    if not wanted:
        return BatchResult(missing_checked=checked)
    found = len(wanted)
    revisions, heavy, fetch_errors = yield from _fetch(session, wanted, changes)
    multipart_writes = session.target_info.multipart_writes
    written, write_failures = yield from _write(revisions, multipart_writes)
    read = len(revisions)
    if heavy:
        group_bytes = APART_BYTES if multipart_writes else BULK_GROUP_BYTES
        groups = _heavy_groups(heavy, group_bytes, first=HEAVY_BYTES)
        answers = yield Fork(tuple(_copy_heavy(g, multipart_writes, session.use_bulk_get)
                                   for g in groups),
                             weights=tuple(sum(h.weight for h in g) for g in groups))
        for copied in answers:
            read += copied.docs_read
            written += copied.docs_written
            write_failures += list(copied.failures)
    return BatchResult(
        missing_checked=checked,
        missing_found=found,
        docs_read=read,
        docs_written=written,
        failures=(*fetch_errors, *write_failures),
    )


@dataclass(frozen=True, slots=True)
class Heavy:
    """A revision whose attachment bodies newer than `atts_since` must be fetched;
    `weight` is their size in bytes as the source's stubs give it."""

    wanted: BodiesWanted
    weight: int


def _heavy_groups(heavy: Sequence[Heavy], limit: int, first: int | None = None
                  ) -> list[list[Heavy]]:
    """Consecutive groups of at most `limit` attachment bytes (a heavier one alone). With
    `first`, the first group holds at most that, and each next one twice the one before
    up to `limit`: the target gets its first write after a short read, not a long one."""
    groups: list[list[Heavy]] = [[]]
    size = 0
    cap = min(first or limit, limit)
    for item in heavy:
        if groups[-1] and size + item.weight > cap:
            groups.append([])
            size = 0
            cap = min(2 * cap, limit)
        groups[-1].append(item)
        size += item.weight
    return groups


def _copy_heavy(group: Sequence[Heavy], multipart_writes: bool, bulk_get: bool
                ) -> Flow[BatchResult]:
    """Fetch a group's revisions with their attachment bodies (one request where the
    source can), then write them: one by one to a target that takes bodies apart, else in
    one inline `_bulk_docs`."""
    full = yield Call("source", "fetch_attachments",
                      (tuple(item.wanted for item in group), bulk_get))
    errors = [one for one in full if isinstance(one, FetchError)]
    fetched = _dedupe([one for one in full if not isinstance(one, FetchError)])
    written, failures = yield from _write(fetched, multipart_writes, grouped=True)
    return BatchResult(docs_read=len(fetched), docs_written=written,
                       failures=(*errors, *failures))


def _fetch(
    session: Session, wanted: list[Wanted], changes: Sequence[Change]
) -> Flow[tuple[list[Revision], list[Heavy], list[FetchError]]]:
    """The wanted revisions as they can be written now, the ones whose attachment bodies
    must still be fetched, and the ones the source could not give."""
    from_feed, rest = _taken_from_feed(changes, wanted)
    results: list[Revision | FetchError] = list(from_feed)
    # (an empty `_bulk_get` never gets an answer from PouchDB Server)
    if rest and session.use_bulk_get:
        try:
            results += yield Call("source", "bulk_get", (rest,))
        except NotSupported:
            session.use_bulk_get = False
    if rest and not session.use_bulk_get:
        results += yield from _fetch_each(rest)
    since = {(w.id, w.rev): w.atts_since for w in wanted}
    by_id = {w.id: w.atts_since for w in wanted}
    revisions: list[Revision] = []
    errors: list[FetchError] = []
    heavy: dict[tuple[str, str], Heavy] = {}
    for item in results:
        if isinstance(item, FetchError):
            errors.append(item)
            continue
        atts_since = since.get((item.id, item.rev), by_id.get(item.id, ()))
        weight = _missing_bytes(item, atts_since)
        if weight is None:
            revisions.append(item)
        else:  # `latest=true` can answer two wanted revs with the same leaf: fetch it once
            heavy.setdefault((item.id, item.rev), Heavy(BodiesWanted(item, atts_since), weight))
    return _dedupe(revisions), list(heavy.values()), errors


def _dedupe(revisions: list[Revision]) -> list[Revision]:
    # `latest=true` can answer two wanted revs with the same leaf: write it once.
    seen: dict[tuple[str, str], Revision] = {}
    for revision in revisions:
        seen.setdefault((revision.id, revision.rev), revision)
    return list(seen.values())


def _fetch_each(wanted: Sequence[Wanted]) -> Flow[list[Revision | FetchError]]:
    grouped: dict[str, list[Wanted]] = {}
    for w in wanted:
        grouped.setdefault(w.id, []).append(w)
    results: list[Revision | FetchError] = []
    for doc_id, items in grouped.items():
        revs = [w.rev for w in items]
        got = yield Call("source", "open_revs", (doc_id, revs, items[0].atts_since))
        results.extend(got)
    return results


def _write(
    revisions: Sequence[Revision], multipart_writes: bool, grouped: bool = False
) -> Flow[tuple[int, list[WriteFailure]]]:
    """Write revisions, stubs in `_bulk_docs` and those with bodies apart (`grouped`: in
    one `put_revisions`, as a heavy group's branch does; else side by side)."""
    if multipart_writes:
        plain = [r.doc for r in revisions if not r.carries_data()]
        heavy = [r for r in revisions if r.carries_data()]
    else:  # everything inline in _bulk_docs (halved on 413 like any batch)
        plain, heavy = [r.inline() for r in revisions], []
    failures: list[WriteFailure] = []
    for chunk in _by_size(plain, BULK_BYTES):
        failures += yield from _bulk_write(chunk)
    if heavy and grouped:
        failures += yield Call("target", "put_revisions", (heavy,))
    elif heavy:
        answers = yield Parallel(tuple(Call("target", "put_revision", (r,)) for r in heavy))
        for revision, answer in zip(heavy, answers, strict=True):
            failure = _put_outcome(revision, answer)
            if failure is not None:
                failures.append(failure)
    retried: list[WriteFailure] = []
    for failure in failures:
        if failure.error == "missing_stub" and failure.rev is not None:
            # The target lacks an attachment we sent as a stub: send the bodies after all.
            again = yield from _refetch_and_put(failure.id, failure.rev)
            if again is not None:
                retried.append(again)
        else:
            retried.append(failure)
    return len(revisions) - len(retried), retried


def _inline_bytes(doc: Doc) -> int:
    atts = doc.get("_attachments")
    if not isinstance(atts, dict):
        return 0
    return sum(len(a.get("data") or "") for a in atts.values() if isinstance(a, dict))


def _by_size(docs: Sequence[Doc], limit: int) -> list[list[Doc]]:
    """Split so that no `_bulk_docs` request carries much more than `limit` bytes of inline
    attachment data (CouchDB's replicator bounds its buffer the same way)."""
    chunks: list[list[Doc]] = [[]]
    size = 0
    for doc in docs:
        weight = _inline_bytes(doc)
        if chunks[-1] and size + weight > limit:
            chunks.append([])
            size = 0
        chunks[-1].append(doc)
        size += weight
    return chunks


def _refetch_and_put(doc_id: str, rev: str) -> Flow[WriteFailure | None]:
    full = yield Call("source", "open_revs", (doc_id, [rev], ()))
    for one in full:
        if isinstance(one, FetchError):
            return WriteFailure(doc_id, rev, one.error, one.reason)
        failure = yield from _put_one(one)
        if failure is not None:
            return failure
    return None


def _put_one(revision: Revision) -> Flow[WriteFailure | None]:
    try:
        result: WriteFailure | None = yield Call("target", "put_revision", (revision,))
    except (MissingStub, TooLarge) as exc:
        return _put_outcome(revision, exc)
    return result


def _put_outcome(revision: Revision, answer: Any) -> WriteFailure | None:
    """A put_revision answer as a failure to report (or None); other errors stop the run."""
    if isinstance(answer, MissingStub | TooLarge):
        return WriteFailure.of(revision, answer)
    if isinstance(answer, BaseException):
        raise answer
    return answer if isinstance(answer, WriteFailure) else None


def _bulk_write(docs: Sequence[Doc]) -> Flow[list[WriteFailure]]:
    """`_bulk_docs` with `new_edits: false`; on 413 the batch halves and each half retries."""
    if not docs:
        return []
    try:
        failures: list[WriteFailure] = yield Call("target", "bulk_docs", (list(docs),))
        return failures
    except TooLarge as exc:
        if len(docs) == 1:
            doc = docs[0]
            return [WriteFailure(str(doc["_id"]), doc.get("_rev"), "too_large", exc.reason)]
    half = len(docs) // 2
    first = yield from _bulk_write(docs[:half])
    second = yield from _bulk_write(docs[half:])
    return first + second


def add_stats(stats: ckpt.SessionStats, batch: BatchResult) -> ckpt.SessionStats:
    return ckpt.SessionStats(
        missing_checked=stats.missing_checked + batch.missing_checked,
        missing_found=stats.missing_found + batch.missing_found,
        docs_read=stats.docs_read + batch.docs_read,
        docs_written=stats.docs_written + batch.docs_written,
        doc_write_failures=stats.doc_write_failures + len(batch.failures),
    )


def record_checkpoint(
    session: Session, recorded_seq: Seq, *, start_time: str, end_time: str
) -> Flow[None]:
    """Commit the target, then store the log on the target (and on the source)."""
    yield Call("target", "ensure_full_commit")
    sides: tuple[Side, ...] = ("target",) if session.target_only else ("target", "source")
    for side in sides:
        previous = session.logs[side]
        log = ckpt.next_log(
            previous,
            replication_id_version=session.id_version,
            session_id=session.session_id,
            start_time=start_time,
            end_time=end_time,
            start_last_seq=session.start_seq,
            recorded_seq=recorded_seq,
            stats=session.stats,
        )
        log["_id"] = session.log_id
        if previous is not None and "_rev" in previous:
            log["_rev"] = previous["_rev"]
        rev: str = yield Call(side, "put_local", (log,))
        session.logs[side] = {**log, "_rev": rev}
