"""The intake worker's I/O, thin around `api.intake.decisions`.

Guarantees:
- Follows the central changes feed from the checkpoint `_local/intake-checkpoint`, which is
  written only after every effect of the changes before it is stored: killed at any point,
  the worker resumes from the last checkpoint and repeats nothing, because every document
  it writes has an id derived from the dossier's id (a second write is a Conflict, ignored).
- The official code's daily sequence lives in one counter document per agency and day,
  updated with the store's conflict check and retried: two workers never share a number,
  and a dossier already counted keeps its number after a restart.
- A dossier failing any check gets a `needs_attention` outcome with Vietnamese reasons and
  never blocks the feed. Other failures (storage, TSA) are retried with back-off; after
  `max_attempts` the dossier is set aside for attention too, so the feed moves on.
- The embedded dossier JSON must equal the dossier document without its `_`-fields, and each
  embedded file must equal the dossier's attachment of the same name.
- The receipt time is fixed once, by the first write of the receipt event (the device's claim
  clamped to the intake's clock, `decisions.receipt_time`); a retry reads it back, so the
  code's day, the appointment date and the outcome always agree with the event. It is written
  after validation passed; a dossier that fails later (its day's numbers used up, or set aside
  after repeated transient failures) keeps that event and gets a `needs_attention` outcome.
- The district PKI (trust roots, CRLs, the TSA key) is opened once and reopened only when a
  file in the PKI directory changes (a revocation publishes a new CRL): a device revoked
  while the worker runs is refused from its next dossier on.
- `health` is safe to read from another thread; the oldest pending change's age is counted
  from when this worker first saw it waiting (the feed carries no write times).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.auth.revocation import publish_reference
from api.gateway.access_index import seq_number
from api.intake import decisions as rules
from dossiers.calendar import WorkingCalendar, default_calendar
from dossiers.catalogue import Catalogue, load_catalogue
from dossiers.errors import DossierError
from signing.ltv import add_long_term_validation
from signing.pki import DistrictPki, TrustAnchors
from signing.tsa import DistrictTimeStamper, TsaResponder
from signing.verify import MESSAGES, DocumentReport, ExpectedDossier, verify_document
from sync.errors import Conflict, NotFound

CHECKPOINT_ID = "_local/intake-checkpoint"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class IntakeHealth:
    """What /health and /metrics show about the worker."""

    checkpoint_seq: int = 0
    backlog: int = 0
    oldest_pending_seq: int | None = None
    oldest_pending_since: float | None = None  # time.monotonic() when first seen waiting
    processed: int = 0
    needs_attention: int = 0
    errors: int = 0
    last_error: str | None = None
    last_error_at: str | None = None

    @property
    def oldest_pending_age_seconds(self) -> float:
        """Counted now, so a worker stuck in back-off shows its backlog growing older."""
        since = self.oldest_pending_since
        return 0.0 if since is None else max(0.0, time.monotonic() - since)


class Refused(Exception):
    """A check failed: the dossier needs attention (reasons in Vietnamese)."""

    def __init__(self, reasons: list[str], signatures: dict[str, Any] | None = None) -> None:
        super().__init__(reasons)
        self.reasons, self.signatures = reasons, signatures


class TransientFailure(Exception):
    """A dossier could not be processed now (storage, TSA): the batch stops before it and is
    retried; the message names the dossier and is already in `health.last_error`."""


@dataclass(frozen=True)
class _Tools:
    """What one PKI state gives the worker: trust for validation, the TSA for B-LTA."""

    fingerprint: tuple[tuple[str, int, int], ...]
    trust: TrustAnchors
    timestamper: DistrictTimeStamper


def _pki_fingerprint(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, modification times and sizes of the PKI's files (state, certificates, CRLs,
    extra trust): any change, such as a new CRL, changes it."""
    paths = [p for p in directory.iterdir() if p.is_file()]
    extra = directory / "trust"
    if extra.is_dir():
        paths += [p for p in extra.iterdir() if p.is_file()]
    found = []
    for path in paths:
        with contextlib.suppress(FileNotFoundError):  # replaced meanwhile: next call sees it
            st = path.stat()
            found.append((str(path), st.st_mtime_ns, st.st_size))
    return tuple(sorted(found))


class IntakeWorker:
    def __init__(self, central: Any, pki_dir: Path, passphrase: bytes, *,
                 catalogue: Catalogue | None = None, calendar: WorkingCalendar | None = None,
                 clock: Callable[[], dt.datetime] = _utcnow, batch: int = 20,
                 max_attempts: int = 5, poll_seconds: float = 1.0) -> None:
        self.central = central
        self.pki_dir, self.passphrase = pki_dir, passphrase
        self.catalogue = catalogue or load_catalogue()
        self.calendar = calendar or default_calendar()
        self.clock, self.batch = clock, batch
        self.max_attempts, self.poll_seconds = max_attempts, poll_seconds
        self.health = IntakeHealth()
        self._attempts: dict[str, int] = {}
        self._tools: _Tools | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the feed -----------------------------------------------------------------------

    def _checkpoint(self) -> dict[str, Any]:
        try:
            doc: dict[str, Any] = self.central.get_local(CHECKPOINT_ID)
            return doc
        except NotFound:
            return {"_id": CHECKPOINT_ID, "last_seq": 0}

    def run_once(self) -> int:
        """Process one batch after the checkpoint; answer how many changes were done."""
        checkpoint = self._checkpoint()
        since = checkpoint.get("last_seq", 0)  # opaque on CouchDB 3: passed back as it came
        feed = self.central.changes(since=since, limit=self.batch, include_docs=True)
        # Before the work, so a batch that keeps failing still shows its backlog.
        self._note_backlog(since, feed["results"])
        done = 0
        for change in feed["results"]:
            self._handle(change)  # raises on a transient failure: the checkpoint stays put
            checkpoint["last_seq"] = change["seq"]
            done += 1
        if done:
            checkpoint["_rev"] = self.central.put_local(checkpoint)["rev"]
        self._note_backlog(checkpoint.get("last_seq", 0), None)
        return done

    def _note_backlog(self, seq: Any, results: list[dict[str, Any]] | None) -> None:
        """Backlog and oldest waiting change after `seq` (`results`: the changes read from
        there; None after a batch, when only an empty backlog says nothing waits)."""
        health = self.health
        since = seq_number(seq)
        health.checkpoint_seq = since
        health.backlog = max(0, seq_number(self.central.info()["update_seq"]) - since)
        if results is None:
            if health.backlog == 0:
                health.oldest_pending_seq = health.oldest_pending_since = None
            return
        if not results:
            health.oldest_pending_seq = health.oldest_pending_since = None
            return
        first = seq_number(results[0]["seq"])
        if health.oldest_pending_seq != first or health.oldest_pending_since is None:
            health.oldest_pending_since = time.monotonic()
        health.oldest_pending_seq = first

    def _handle(self, change: dict[str, Any]) -> None:
        doc = change.get("doc")
        if change.get("deleted") or not isinstance(doc, dict) or doc.get("type") != "dossier":
            return
        dossier_id = str(change["id"])
        try:
            self.process(doc)
            self._attempts.pop(dossier_id, None)
        except Exception as exc:  # transient (storage, TSA): retry, then set aside
            message = f"{dossier_id}: {type(exc).__name__}: {exc}"
            self._record_error(message)
            attempts = self._attempts.get(dossier_id, 0) + 1
            self._attempts[dossier_id] = attempts
            if attempts < self.max_attempts:
                raise TransientFailure(message) from exc
            self._write_attention(dossier_id, doc, [
                f"Không tiếp nhận được sau {attempts} lần thử do lỗi hệ thống: {exc}"])
            self._attempts.pop(dossier_id, None)

    def _record_error(self, message: str) -> None:
        self.health.errors += 1
        self.health.last_error = message
        self.health.last_error_at = self.clock().isoformat()

    # --- one dossier --------------------------------------------------------------------

    def process(self, doc: dict[str, Any]) -> None:
        """Receive one dossier, or set it aside; a dossier already done is left alone."""
        dossier_id = str(doc["_id"])
        if self._exists(rules.outcome_id(dossier_id)):
            return
        try:
            self._receive(doc)
        except Refused as refusal:
            self._write_attention(dossier_id, doc, refusal.reasons, refusal.signatures)

    def _receive(self, doc: dict[str, Any]) -> None:
        submission = rules.submission_of(doc)
        if isinstance(submission, str):
            raise Refused([submission])
        # Refuse an unknown procedure before anything is written for the dossier.
        tentative = rules.receipt_time(submission, self.clock())
        appointment = rules.appointment(submission, self.catalogue, self.calendar, tentative)
        if isinstance(appointment, str):
            raise Refused([appointment])
        tools = self._current_tools()
        pdf, report = self._checked_pdf(doc, tools.trust)
        received = self._fix_receipt(submission)
        if received != tentative:  # fixed by an earlier attempt: count from that time
            appointment = rules.appointment(submission, self.catalogue, self.calendar, received)
            assert isinstance(appointment, dt.date)  # the same procedure, found just above
        code = self._allocate(submission, received)
        upgraded = add_long_term_validation(pdf, tools.trust, tools.timestamper)
        outcome = rules.accepted_outcome(submission, code, appointment, self.clock(),
                                         received=received,
                                         signatures=rules.signature_summary(report))
        outcome["_attachments"] = {rules.LTA_PDF: {
            "content_type": "application/pdf", "data": base64.b64encode(upgraded).decode()}}
        self._put_once(outcome)  # last: its presence means the dossier is done
        self.health.processed += 1

    def _fix_receipt(self, submission: rules.Submission) -> dt.datetime:
        """Write the receipt event once and answer its time (an earlier attempt's, if any)."""
        event = rules.receipt_event(submission, rules.receipt_time(submission, self.clock()))
        try:
            self.central.put(event)
        except Conflict:
            event = self.central.get(event["_id"])
        return dt.datetime.fromisoformat(str(event["at"]))

    def _current_tools(self) -> _Tools:
        """The PKI opened once, reopened when its files change (a new CRL, a new TSA key)."""
        fingerprint = _pki_fingerprint(self.pki_dir)
        if self._tools is None or self._tools.fingerprint != fingerprint:
            pki = DistrictPki.open(self.pki_dir)
            publish_reference(self.central, pki)  # e.g. a CRL from `doorstep pki revoke`
            # One timestamper for many dossiers: pyHanko asks it for a size-estimating dummy
            # token only once, instead of once per dossier.
            stamper = DistrictTimeStamper(TsaResponder.from_pki(pki, self.passphrase))
            self._tools = _Tools(fingerprint, pki.trust(), stamper)
        return self._tools

    def _checked_pdf(self, doc: dict[str, Any],
                     trust: TrustAnchors) -> tuple[bytes, DocumentReport]:
        dossier_id = str(doc["_id"])
        names = set(doc.get("_attachments", {}))
        if rules.DECLARATION_PDF not in names:
            raise Refused([f"Hồ sơ thiếu tờ khai đã ký (tệp «{rules.DECLARATION_PDF}»)."])
        pdf = self.central.attachment(dossier_id, rules.DECLARATION_PDF).read()
        photos = {name: hashlib.sha256(self.central.attachment(dossier_id, name).read())
                  .hexdigest() for name in sorted(names - {rules.DECLARATION_PDF})}
        data = {k: v for k, v in doc.items() if not k.startswith("_")}
        report = verify_document(pdf, trust, ExpectedDossier(data, photos))
        if not report.ok:
            raise Refused([MESSAGES[p] for p in report.all_problems()],
                          rules.signature_summary(report))
        return bytes(pdf), report

    def _allocate(self, submission: rules.Submission, received: dt.datetime) -> Any:
        day = rules.code_day(submission, received)
        while True:
            try:
                counter = self.central.get(rules.counter_id(submission.agency_code, day))
            except NotFound:
                counter = None
            try:
                code, updated = rules.allocate(counter, submission.agency_code, day,
                                               submission.id)
            except DossierError as exc:
                raise Refused([str(exc)]) from exc
            if updated is None:
                return code
            try:
                self.central.put(updated)
                return code
            except Conflict:  # another worker took a number meanwhile: read again
                continue

    def _write_attention(self, dossier_id: str, doc: dict[str, Any], reasons: list[str],
                         signatures: dict[str, Any] | None = None) -> None:
        self._put_once(rules.attention_outcome(dossier_id, doc, reasons, self.clock(),
                                               signatures=signatures))
        self.health.needs_attention += 1

    def _exists(self, doc_id: str) -> bool:
        try:
            self.central.get(doc_id)
            return True
        except NotFound:
            return False

    def _put_once(self, doc: dict[str, Any]) -> None:
        # A Conflict means an earlier attempt wrote it: the effect happened once.
        with contextlib.suppress(Conflict):
            self.central.put(doc)

    # --- running ------------------------------------------------------------------------

    def run(self) -> None:
        """Follow the feed until stopped; back off (1 s doubling to 60 s) after a failure."""
        delay = 0.0
        while not self._stop.is_set():
            try:
                done = self.run_once()
                delay = 0.0
            except Exception as exc:  # reported at /health; the loop must survive it
                if not isinstance(exc, TransientFailure):  # that one is recorded already
                    self._record_error(f"{type(exc).__name__}: {exc}")
                delay = min(60.0, max(1.0, delay * 2))
                self._stop.wait(delay)
                continue
            if done < self.batch:
                self._stop.wait(self.poll_seconds)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="intake", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
