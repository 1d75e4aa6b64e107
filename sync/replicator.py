"""The replicator: runs the protocol core (`sync.protocol.session`) against two peers.

Split as CouchDB splits it: this job reads the source's changes feed in batches, hands
each batch to a pool of workers (each finds the missing revisions and copies them), and
checkpoints only up to the sequence below which every batch is done (`SeqTracker`). So an
interrupted replication resumes from its last checkpoint without re-sending what was
written, and never skips what was not.

Guarantees: every leaf revision (conflicts and deletions included) that the source holds
when the run ends is on the target, with its history; a document the target refuses is
reported in the summary and the others go on; 401/403 and an unreachable peer (after the
peers' bounded retries) stop the run with that error, after checkpointing what was done.
Progress goes to an optional callback as `Progress` events; the result is a frozen
`ReplicationSummary`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, Literal, TypeVar

from sync.errors import DocumentError
from sync.peers.base import Peer
from sync.protocol import selector as mango
from sync.protocol.checkpoint import SeqTracker
from sync.protocol.ids import ReplicationSpec
from sync.protocol.model import Change, ChangesPage, FetchError, Seq, WriteFailure
from sync.protocol.session import (
    IN_FLIGHT_BYTES,
    BatchResult,
    Call,
    Flow,
    Fork,
    Parallel,
    Session,
    Side,
    add_stats,
    copy_batch,
    docs_in_feed,
    open_session,
    record_checkpoint,
)

T = TypeVar("T")
MAX_REPORTED_FAILURES = 1000
# Threads for per-document fetches and writes, per batch worker: they mostly wait on a
# peer; together they hold at most `session.IN_FLIGHT_BYTES` of attachment bodies.
DOC_WORKERS_PER_WORKER = 4


@dataclass(frozen=True, slots=True)
class ReplicationOptions:
    continuous: bool = False
    doc_ids: tuple[str, ...] | None = None
    selector: Mapping[str, Any] | None = None
    create_target: bool = False
    checkpoint_target_only: bool = False
    batch_size: int = 500
    workers: int = 4
    use_bulk_get: bool = True
    checkpoint_interval: float = 2.0  # seconds between checkpoints; 0 = after every batch
    # continuous: the longest long-poll, as CouchDB's default; the source's heartbeats keep
    # it alive and stop() ends it within seconds.
    poll_timeout: float = 60.0

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if self.doc_ids is not None and self.selector is not None:
            raise ValueError("doc_ids and selector cannot be combined")
        if self.selector is not None:
            mango.validate(self.selector)


@dataclass(frozen=True, slots=True)
class Progress:
    """An event for progress bars: what has happened so far in this run."""

    kind: Literal["started", "batch", "checkpoint", "idle", "finished"]
    changes_seen: int
    docs_read: int
    docs_written: int
    doc_write_failures: int
    estimated_total: int | None = None


@dataclass(frozen=True, slots=True)
class ReplicationSummary:
    source: str
    target: str
    replication_id: str
    session_id: str
    start_seq: Seq
    recorded_seq: Seq
    changes_seen: int
    missing_checked: int
    docs_read: int
    docs_written: int
    doc_write_failures: int
    failures: tuple[WriteFailure | FetchError, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return self.doc_write_failures == 0


def _perform(call: Call, peers: Mapping[Side, Peer]) -> Any:
    return getattr(peers[call.side], call.method)(*call.args, **call.kwargs)


def _perform_or_error(call: Call, peers: Mapping[Side, Peer]) -> Any:
    try:
        return _perform(call, peers)
    except DocumentError as exc:
        return exc


def drive(
    flow: Flow[T],
    peers: Mapping[Side, Peer],
    pool: ThreadPoolExecutor | None = None,
    budget: ByteBudget | None = None,
) -> T:
    """Run a protocol generator: perform each call it yields on the named peer, send the
    result back, or throw the peer's error into it. `Parallel` calls and `Fork` flows
    run on `pool`, the flows within `budget`."""
    try:
        step = next(flow)
        while True:
            if isinstance(step, Fork):
                step = flow.send(_run_forked(step, peers, pool, budget))
                continue
            if isinstance(step, Parallel):
                if pool is None:
                    answers = [_perform_or_error(c, peers) for c in step.calls]
                else:
                    answers = list(pool.map(lambda c: _perform_or_error(c, peers), step.calls))
                step = flow.send(answers)
                continue
            try:
                result = _perform(step, peers)
            except DocumentError as exc:
                step = flow.throw(exc)
            else:
                step = flow.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


class ByteBudget:
    """Bytes that running branches may hold together: `take` waits until a branch's weight
    fits (a branch heavier than the whole budget runs when nothing else is held)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0
        self._changed = threading.Condition()

    def take(self, weight: int) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self.held == 0 or self.held + weight <= self.limit)
            self.held += weight

    def give_back(self, weight: int) -> None:
        with self._changed:
            self.held -= weight
            self._changed.notify_all()


def _run_forked(fork: Fork, peers: Mapping[Side, Peer], pool: ThreadPoolExecutor | None,
                budget: ByteBudget | None) -> list[Any]:
    # Each branch runs its own calls in turn (pool=None: a branch never waits on the pool
    # it runs in). Every branch ends before an error is raised, so none writes afterwards.
    if pool is None:
        return [drive(branch, peers) for branch in fork.flows]
    weights = fork.weights or (0,) * len(fork.flows)

    def run(branch: Flow[Any], weight: int) -> Any:
        try:
            return drive(branch, peers)
        finally:
            if budget is not None:
                budget.give_back(weight)

    futures = []
    for branch, weight in zip(fork.flows, weights, strict=True):
        if budget is not None:
            budget.take(weight)  # before submitting: a queued branch holds nothing yet
        futures.append(pool.submit(run, branch, weight))
    wait(futures)
    return [future.result() for future in futures]


def split_page(page: ChangesPage, size: int) -> list[tuple[tuple[Change, ...], Seq]]:
    """A feed page as worker batches of at most `size`, each with the sequence to
    checkpoint once it is done (the last batch ends at the page's `last_seq`)."""
    rows = page.changes
    if not rows:
        return [((), page.last_seq)]
    batches = [rows[i : i + size] for i in range(0, len(rows), size)]
    return [
        (batch, batch[-1].seq if n < len(batches) - 1 else page.last_seq)
        for n, batch in enumerate(batches)
    ]


def _now() -> str:
    return formatdate(usegmt=True)


class Replication:
    """One replication job from `source` to `target`."""

    def __init__(
        self,
        source: Peer,
        target: Peer,
        options: ReplicationOptions | None = None,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.source = source
        self.target = target
        self.options = options or ReplicationOptions()
        self._on_progress = on_progress
        self._stop = stop or threading.Event()
        self._peers: dict[Side, Peer] = {"source": source, "target": target}
        self._failures: list[WriteFailure | FetchError] = []
        self._changes_seen = 0
        self._recorded: Seq = None
        self._started = ""
        self._last_checkpoint = 0.0
        self._estimate: int | None = None
        self._doc_pool: ThreadPoolExecutor | None = None
        self._budget = ByteBudget(IN_FLIGHT_BYTES)  # attachment bodies held, all batches

    def stop(self) -> None:
        """Ask a continuous replication to finish (it checkpoints and returns)."""
        self._stop.set()

    def spec(self) -> ReplicationSpec:
        return ReplicationSpec(
            source=self.source.identity(),
            target=self.target.identity(),
            doc_ids=self.options.doc_ids,
            selector=self.options.selector,
        )

    def run(self) -> ReplicationSummary:
        began = time.monotonic()
        self._started = _now()
        opts = self.options
        with (
            ThreadPoolExecutor(opts.workers, thread_name_prefix="replicator") as pool,
            ThreadPoolExecutor(DOC_WORKERS_PER_WORKER * opts.workers,
                               thread_name_prefix="replicator-doc") as docs,
        ):
            session = drive(
                open_session(self.spec(), create_target=opts.create_target,
                             target_only=opts.checkpoint_target_only,
                             use_bulk_get=opts.use_bulk_get),
                self._peers, pool,
            )
            self._recorded = session.start_seq
            if session.start_seq == 0 and session.source_info.doc_count is not None:
                self._estimate = session.source_info.doc_count
            self._emit("started", session)
            tracker = SeqTracker(session.start_seq)
            self._doc_pool = docs
            try:
                self._follow(session, tracker, pool)
            except BaseException:
                self._checkpoint_quietly(session, tracker)
                raise
        self._checkpoint(session, tracker, force=True)
        self._emit("finished", session)
        return ReplicationSummary(
            source=self.source.label,
            target=self.target.label,
            replication_id=session.replication_id,
            session_id=session.session_id,
            start_seq=session.start_seq,
            recorded_seq=tracker.checkpointable,
            changes_seen=self._changes_seen,
            missing_checked=session.stats.missing_checked,
            docs_read=session.stats.docs_read,
            docs_written=session.stats.docs_written,
            doc_write_failures=session.stats.doc_write_failures,
            failures=tuple(self._failures),
            seconds=time.monotonic() - began,
        )

    # -- the changes reader and the workers ----------------------------------------------

    def _read(self, since: Seq, longpoll: bool, include_docs: bool = False) -> ChangesPage:
        # Pages span several batches: a feed request has a fixed cost on the server that
        # one batch per request would pay `workers` times over.
        opts = self.options
        return self.source.changes(
            since,
            limit=opts.batch_size * opts.workers,
            doc_ids=opts.doc_ids,
            selector=opts.selector,
            feed="longpoll" if longpoll else "normal",
            timeout=opts.poll_timeout if longpoll else None,
            include_docs=include_docs and not longpoll,
            stop=self._stop,
        )

    def _follow(self, session: Session, tracker: SeqTracker, pool: ThreadPoolExecutor) -> None:
        since = session.start_seq
        in_flight: dict[Future[BatchResult], int] = {}
        longpoll = False
        with_docs = docs_in_feed(session)
        while not self._stop.is_set():
            page = self._read(since, longpoll, with_docs)
            if page.scanned == 0:
                if not self.options.continuous:
                    break
                self._settle(session, tracker, in_flight, until=0)
                self._checkpoint(session, tracker, force=True)
                self._emit("idle", session)
                longpoll = True
                continue
            longpoll = False
            since = page.last_seq
            self._changes_seen += len(page.changes)
            for batch, last_seq in split_page(page, self.options.batch_size):
                ticket = tracker.begin(last_seq)
                if batch:
                    future = pool.submit(self._copy, session, batch)
                    in_flight[future] = ticket
                else:
                    tracker.finish(ticket)  # a filtered page: nothing to copy, the feed moved on
                self._settle(session, tracker, in_flight, until=2 * self.options.workers - 1)
        self._settle(session, tracker, in_flight, until=0)

    def _copy(self, session: Session, changes: tuple[Change, ...]) -> BatchResult:
        return drive(copy_batch(session, changes), self._peers, self._doc_pool, self._budget)

    def _settle(
        self,
        session: Session,
        tracker: SeqTracker,
        in_flight: dict[Future[BatchResult], int],
        until: int,
    ) -> None:
        """Collect finished batches until at most `until` remain in flight."""
        while in_flight:
            finished = [f for f in in_flight if f.done()]
            if not finished:
                if len(in_flight) <= until:
                    return
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                finished = list(done)
            for future in finished:
                ticket = in_flight.pop(future)
                result = future.result()  # a worker's error stops the job here
                session.stats = add_stats(session.stats, result)
                room = MAX_REPORTED_FAILURES - len(self._failures)
                self._failures.extend(result.failures[: max(room, 0)])
                tracker.finish(ticket)
                self._emit("batch", session)
            self._checkpoint(session, tracker, force=False)

    # -- checkpoints -----------------------------------------------------------------------

    def _checkpoint(self, session: Session, tracker: SeqTracker, *, force: bool) -> None:
        seq = tracker.checkpointable
        if seq == self._recorded and session.logs["target"] is not None:
            return
        due = time.monotonic() - self._last_checkpoint >= self.options.checkpoint_interval
        if not (force or due):
            return
        flow = record_checkpoint(session, seq, start_time=self._started, end_time=_now())
        drive(flow, self._peers)
        self._recorded = seq
        self._last_checkpoint = time.monotonic()
        self._emit("checkpoint", session)

    def _checkpoint_quietly(self, session: Session, tracker: SeqTracker) -> None:
        # The run is failing: keep what is done, but the original error is what matters.
        with contextlib.suppress(DocumentError):
            self._checkpoint(session, tracker, force=True)

    def _emit(self, kind: Literal["started", "batch", "checkpoint", "idle", "finished"],
              session: Session) -> None:
        if self._on_progress is None:
            return
        stats = session.stats
        self._on_progress(
            Progress(kind, self._changes_seen, stats.docs_read, stats.docs_written,
                     stats.doc_write_failures, self._estimate)
        )


def replicate(
    source: Peer,
    target: Peer,
    options: ReplicationOptions | None = None,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
) -> ReplicationSummary:
    """Replicate `source` into `target` once (or, continuous, until `stop` is set)."""
    return Replication(source, target, options, on_progress=on_progress, stop=stop).run()


def sync_both(
    a: Peer,
    b: Peer,
    options: ReplicationOptions | None = None,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
) -> tuple[ReplicationSummary, ReplicationSummary]:
    """Two-way sync: push a → b and pull b → a (concurrently when continuous)."""
    opts = options or ReplicationOptions()
    back = ReplicationOptions(**{**_fields(opts), "create_target": False})
    if not opts.continuous:
        push = replicate(a, b, opts, on_progress=on_progress)
        pull = replicate(b, a, back, on_progress=on_progress)
        return push, pull
    results: dict[str, ReplicationSummary] = {}
    errors: list[BaseException] = []

    def run(name: str, src: Peer, dst: Peer, o: ReplicationOptions) -> None:
        try:
            results[name] = replicate(src, dst, o, on_progress=on_progress, stop=stop)
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=("push", a, b, opts)),
        threading.Thread(target=run, args=("pull", b, a, back)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results["push"], results["pull"]


def _fields(options: ReplicationOptions) -> dict[str, Any]:
    return {name: getattr(options, name) for name in ReplicationOptions.__dataclass_fields__}
