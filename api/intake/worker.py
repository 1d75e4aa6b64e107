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

from api.intake import decisions as rules
from dossiers.calendar import WorkingCalendar, default_calendar
from dossiers.catalogue import Catalogue, load_catalogue
from dossiers.errors import DossierError
from signing.ltv import add_long_term_validation
from signing.pki import DistrictPki, TrustAnchors
from signing.tsa import DistrictTimeStamper, TsaResponder
from signing.verify import MESSAGES, ExpectedDossier, verify_document
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
    oldest_pending_age_seconds: float = 0.0
    processed: int = 0
    needs_attention: int = 0
    last_error: str | None = None
    last_error_at: str | None = None


class Refused(Exception):
    """A check failed: the dossier needs attention (the message is Vietnamese)."""


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
        self._pending_since: tuple[int, float] | None = None
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
        since = int(checkpoint.get("last_seq", 0))
        feed = self.central.changes(since=since, limit=self.batch, include_docs=True)
        self._note_backlog(since, feed["results"])
        done = 0
        for change in feed["results"]:
            self._handle(change)  # raises on a transient failure: the checkpoint stays put
            checkpoint["last_seq"] = int(change["seq"])
            done += 1
        if done:
            checkpoint["_rev"] = self.central.put_local(checkpoint)["rev"]
        self.health.checkpoint_seq = int(checkpoint.get("last_seq", 0))
        self.health.backlog = max(0, int(self.central.info()["update_seq"])
                                  - self.health.checkpoint_seq)
        if self.health.backlog == 0:
            self._pending_since = None
        return done

    def _note_backlog(self, since: int, results: list[dict[str, Any]]) -> None:
        if not results:
            self._pending_since = None
            self.health.oldest_pending_seq, self.health.oldest_pending_age_seconds = None, 0.0
            return
        first = int(results[0]["seq"])
        if self._pending_since is None or self._pending_since[0] != first:
            self._pending_since = (first, time.monotonic())
        self.health.oldest_pending_seq = first
        self.health.oldest_pending_age_seconds = time.monotonic() - self._pending_since[1]

    def _handle(self, change: dict[str, Any]) -> None:
        doc = change.get("doc")
        if change.get("deleted") or not isinstance(doc, dict) or doc.get("type") != "dossier":
            return
        dossier_id = str(change["id"])
        try:
            self.process(doc)
            self._attempts.pop(dossier_id, None)
        except Exception as exc:  # transient (storage, TSA): retry, then set aside
            self._record_error(f"{dossier_id}: {type(exc).__name__}: {exc}")
            attempts = self._attempts.get(dossier_id, 0) + 1
            self._attempts[dossier_id] = attempts
            if attempts < self.max_attempts:
                raise
            self._write_attention(dossier_id, doc, [
                f"Không tiếp nhận được sau {attempts} lần thử do lỗi hệ thống: {exc}"])
            self._attempts.pop(dossier_id, None)

    def _record_error(self, message: str) -> None:
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
            self._write_attention(dossier_id, doc, refusal.args[0])

    def _receive(self, doc: dict[str, Any]) -> None:
        submission = rules.submission_of(doc)
        if isinstance(submission, str):
            raise Refused([submission])
        appointment = rules.appointment(submission, self.catalogue, self.calendar)
        if isinstance(appointment, str):
            raise Refused([appointment])
        pki = DistrictPki.open(self.pki_dir)
        trust = pki.trust()
        pdf = self._checked_pdf(doc, trust)
        code = self._allocate(submission)
        upgraded = add_long_term_validation(
            pdf, trust, DistrictTimeStamper(TsaResponder.from_pki(pki, self.passphrase)))
        now = self.clock()
        self._put_once(rules.receipt_event(submission, now))
        outcome = rules.accepted_outcome(submission, code, appointment, now)
        outcome["_attachments"] = {rules.LTA_PDF: {
            "content_type": "application/pdf", "data": base64.b64encode(upgraded).decode()}}
        self._put_once(outcome)  # last: its presence means the dossier is done
        self.health.processed += 1

    def _checked_pdf(self, doc: dict[str, Any], trust: TrustAnchors) -> bytes:
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
            raise Refused([MESSAGES[p] for p in report.all_problems()])
        return bytes(pdf)

    def _allocate(self, submission: rules.Submission) -> Any:
        day = rules.code_day(submission)
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

    def _write_attention(self, dossier_id: str, doc: dict[str, Any], reasons: list[str]) -> None:
        self._put_once(rules.attention_outcome(dossier_id, doc, reasons, self.clock()))
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
