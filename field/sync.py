"""The device's sync with the server: pull, honour the purge list, push.

One `DeviceSync.sync_once()` runs our replicator (`sync.replicator`) twice between the
device's store and the officer's virtual database at the gateway (`/sync/<officer>`):

1. pull — everything the officer may see (visits, requests and results from the back
   office, intake outcomes, the district's reference documents);
2. purge — the gateway's `_local/doorstep-purge` lists documents whose access left the
   officer (a reassigned visit): each is purged from the store, every revision, so it
   leaves the device and can never replicate back;
3. push — only the documents the device writes (`dossier` and `event`); the gateway
   validates each and answers per document;
4. forget — after a push that left nothing behind, dossiers whose result was delivered
   more than `keep_days` ago leave the device (`field.retention`).

Guarantees:
- Checkpoints are written after every batch, so a sync cut by a dropped connection resumes
  where it stopped (and, by `_revs_diff`, never sends a revision twice).
- An expired access token is refreshed and the sync retried once; a 401 with `wipe: true`
  (from the gateway or the auth API) erases the device's store and key material and raises
  `WipeOrdered` — nothing else runs after it.
- The outcome is recorded in the device's record: `last_sync_at` after a whole sync,
  `last_error` (Vietnamese, no secrets) after a failed one. Documents the gateway refused
  are in the report, not hidden.
- Every request carries the device's clock (`X-Device-Time`) so the server records its skew.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from field.device import Device
from field.errors import FieldAgentError, ServerRefused, ServerUnreachable, WipeOrdered
from field.retention import DEFAULT_KEEP_DAYS, forget_delivered
from field.session import ServerSession, WipeWatch
from sync.errors import DocumentError, Forbidden, PeerUnavailable, Unauthorized
from sync.peers import HttpPeer
from sync.replicator import Progress, ReplicationOptions, ReplicationSummary, replicate

PURGE_DOC = "_local/doorstep-purge"
# What the device writes: nothing else it holds is pushed (visits, results and outcomes
# come from the back office; pushing them back would be refused).
PUSH_SELECTOR: dict[str, Any] = {"type": {"$in": ["dossier", "event"]}}


@dataclass(frozen=True)
class SyncReport:
    """What one sync did."""

    pulled: int
    pushed: int
    purged: tuple[str, ...]
    refused: tuple[tuple[str, str], ...]  # (document id, the gateway's reason)
    seconds: float
    forgotten: tuple[str, ...] = ()  # delivered dossiers' documents past their keeping time

    @property
    def ok(self) -> bool:
        return not self.refused


class DeviceSync:
    """Syncs one device's store with its officer's database at the gateway."""

    def __init__(self, device: Device, session: ServerSession, *, batch_size: int = 100,
                 keep_days: int | None = DEFAULT_KEEP_DAYS,
                 on_progress: Callable[[Progress], None] | None = None) -> None:
        self.device = device
        self.session = session
        self.batch_size = batch_size
        self.keep_days = keep_days  # None: delivered dossiers stay on the device
        self._on_progress = on_progress
        self._watch: WipeWatch | None = None  # the current run's transport

    def sync_once(self) -> SyncReport:
        """Pull, purge, push; record the outcome on the device (see the module's rules)."""
        began = time.monotonic()
        try:
            report = self._with_fresh_token(began)
        except WipeOrdered as order:
            self.device.wipe(order.message)
            raise
        except FieldAgentError as exc:
            self.device.record_error(exc.message)
            raise
        self.device.record_success(username=self.session.username, server=self.session.server)
        return report

    def keep_syncing(self, every: float, stop: threading.Event,
                     on_report: Callable[[SyncReport], None] | None = None,
                     on_lost: Callable[[ServerUnreachable], None] | None = None) -> None:
        """Background sync: one `sync_once` every `every` seconds until `stop` is set. A
        lost connection is recorded and tried again at the next round; a refusal or a
        wipe order ends the loop (it is raised)."""
        while not stop.is_set():
            try:
                report = self.sync_once()
            except ServerUnreachable as lost:
                # Recorded on the device; the next round resumes from the checkpoint.
                if on_lost is not None:
                    on_lost(lost)
            else:
                if on_report is not None:
                    on_report(report)
            stop.wait(every)

    # -- one attempt, retried once after a refresh ----------------------------------------

    def _with_fresh_token(self, began: float) -> SyncReport:
        for attempt in (1, 2):
            try:
                return self._sync(began)
            except Unauthorized as exc:
                self._raise_if_wipe()
                if attempt == 2:
                    raise ServerRefused(f"máy chủ từ chối mã truy cập: {exc.reason}") from exc
                self.session.refresh()  # may itself be answered with a wipe order
            except Forbidden as exc:
                self._raise_if_wipe()
                raise ServerRefused(f"máy chủ từ chối đồng bộ: {exc.reason}") from exc
            except PeerUnavailable as exc:
                raise ServerUnreachable(f"mất kết nối với máy chủ {self.session.server} "
                                        "trong khi đồng bộ; lần sau sẽ tiếp tục từ chỗ "
                                        "đã dừng.") from exc
            except DocumentError as exc:
                raise ServerRefused(f"đồng bộ thất bại ({exc.error}): {exc.reason}") from exc
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _raise_if_wipe(self) -> None:
        if self._watch is not None and self._watch.wipe_reason is not None:
            raise WipeOrdered(self._watch.wipe_reason or "thiết bị đã bị thu hồi.")

    def _remote(self) -> HttpPeer:
        self._watch = self.session.sync_transport()
        return HttpPeer(self.session.sync_url, bearer=self.session.access_token(),
                        transport=self._watch)

    def _options(self, **extra: Any) -> ReplicationOptions:
        # Checkpoint after every batch: a field link drops often, and a checkpoint is one
        # small `_local` write.
        return ReplicationOptions(batch_size=self.batch_size, workers=2,
                                  checkpoint_interval=0.0, **extra)

    def _sync(self, began: float) -> SyncReport:
        remote = self._remote()
        local = self.device.peer()
        try:
            pulled = replicate(remote, local, self._options(), on_progress=self._on_progress)
            purge = remote.get_local(PURGE_DOC) or {}
            ids = [i for i in purge.get("ids", []) if isinstance(i, str)]
            purged = self.device.purge(ids)
            pushed = replicate(local, remote, self._options(selector=PUSH_SELECTOR),
                               on_progress=self._on_progress)
        finally:
            remote.close()
        refused = _refusals(pushed)
        forgotten: list[str] = []
        if not refused and self.keep_days is not None:  # the server holds all they wrote
            forgotten = forget_delivered(self.device, keep_days=self.keep_days)
        return SyncReport(pulled=pulled.docs_written, pushed=pushed.docs_written,
                          purged=tuple(purged), refused=refused,
                          seconds=time.monotonic() - began, forgotten=tuple(forgotten))


def _refusals(summary: ReplicationSummary) -> tuple[tuple[str, str], ...]:
    return tuple((f.id, f"{f.error}: {f.reason}") for f in summary.failures)
