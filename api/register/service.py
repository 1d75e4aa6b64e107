"""`Register`: the back office's read model of dossiers, kept current from the changes feed.

Guarantees:
- After `catch_up()` returns, every change of the central database up to the seq it
  answers is reflected in the rows; the follower thread long-polls the feed so writes from
  any path (devices through the gateway, the intake worker, the API) appear without hooks.
- The feed checkpoint is stored in the register's own SQLite file with each batch, so a
  restart resumes where it stopped instead of rebuilding (a central database that went
  back in time — recreated — is noticed and the register rebuilt).
- Reads answer rows as of the day asked (`today`, Asia/Ho_Chi_Minh): timeliness and
  overdue are evaluated at query time, never frozen at indexing time.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from api.gateway.access_index import seq_number
from api.register.compute import DossierDocs, Folded, as_of_day, fold_docs, row_from
from api.register.queries import DossierQuery, Page, encode_cursor
from api.register.rows import RegisterRow
from api.register.sql import TEXT_CAP, received_sql, search_sql, text_match
from api.register.store import RegisterStore
from dossiers.calendar import WorkingCalendar, default_calendar, local_time
from dossiers.catalogue import Catalogue, load_catalogue
from dossiers.deadlines import DeadlinePolicy
from dossiers.models import Event
from dossiers.validation import search_key
from dossiers.workflow import DossierState

BATCH = 2000
FILE_NAME = "register.sqlite3"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def local_today(now: dt.datetime | None = None) -> dt.date:
    """Today in Asia/Ho_Chi_Minh: the day deadlines are counted in."""
    return local_time(now or _utcnow()).date()


class RegisterHealth(msgspec.Struct, kw_only=True):
    indexed_seq: int = 0
    backlog: int = 0
    rows: int = 0
    last_error: str | None = None
    last_error_at: float | None = None


class Register:
    def __init__(self, central: Any, path: Path, *, source: str = "",
                 catalogue: Catalogue | None = None, calendar: WorkingCalendar | None = None,
                 clock: Callable[[], dt.datetime] = _utcnow, poll_seconds: float = 1.0,
                 batch: int = BATCH) -> None:
        self.central = central
        self.catalogue = catalogue or load_catalogue()
        self.calendar = calendar or default_calendar()
        self.clock = clock
        self.store = RegisterStore(path, source)
        self.health = RegisterHealth()
        self._poll, self._batch = poll_seconds, batch
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._since: Any = self._stored_since()

    @classmethod
    def open(cls, central: Any, data_dir: Path, *, source: str = "", **options: Any) -> Register:
        return cls(central, data_dir / FILE_NAME, source=source, **options)

    # --- following the feed -------------------------------------------------------------

    def _stored_since(self) -> Any:
        stored = self.store.checkpoint()
        return msgspec.json.decode(stored) if stored is not None else 0

    def _compute(self, docs: DossierDocs) -> RegisterRow:
        return row_from(docs, fold_docs(docs, self.catalogue, self.calendar), self.catalogue,
                        self.clock())

    def catch_up(self) -> int:
        """Apply every change up to now; answers the (numeric) seq reached."""
        with self._lock:
            self._check_not_behind()
            built = 0
            while True:
                feed = self.central.changes(since=self._since, limit=self._batch,
                                            include_docs=True)
                rows = feed["results"]
                if rows:
                    self.store.apply(rows, msgspec.json.encode(feed["last_seq"]), self._compute)
                    self._since = feed["last_seq"]
                    built += len(rows)
                if len(rows) < self._batch:
                    break
            if built >= self._batch:  # a large build: let the planner see the new shape
                self.store.analyze()
            self.health.indexed_seq = seq_number(self._since)
            return self.health.indexed_seq

    def _check_not_behind(self) -> None:
        """A checkpoint past the central database's end means it was recreated: rebuild."""
        if seq_number(self._since) == 0:
            return
        if seq_number(self.central.info()["update_seq"]) < seq_number(self._since):
            self.store.reset()
            self._since = 0

    def start(self) -> None:
        self.catch_up()
        self._thread = threading.Thread(target=self._run, name="register", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            # A long-poll in flight may outlast the join: the thread is a daemon.
            self._thread.join(timeout=1.5)

    def close(self) -> None:
        self.stop()
        with self._lock:
            self.store.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.central.changes(since=self._since, limit=1, timeout=self._poll)
                if self._stop.is_set():
                    return
                self.catch_up()
                update_seq = seq_number(self.central.info()["update_seq"])
                self.health.backlog = max(0, update_seq - self.health.indexed_seq)
            except Exception as exc:  # report and retry: the follower must outlive a bad moment
                self.health.last_error = f"{type(exc).__name__}: {exc}"
                self.health.last_error_at = time.time()
                self._stop.wait(1.0)

    # --- reading ------------------------------------------------------------------------

    def today(self) -> dt.date:
        return local_today(self.clock())

    def row(self, dossier_id: str) -> RegisterRow | None:
        found = self.store.row(dossier_id)
        return as_of_day(found, self.today()) if found else None

    def search(self, query: DossierQuery, today: dt.date) -> Page:
        found = self.store.select(*self._sql(query, today))
        page = found[:query.limit]
        more = len(found) > query.limit
        cursor = encode_cursor(page[-1][0], page[-1][1]) if more and page else None
        return Page(rows=[as_of_day(r, today) for _, _, r in page], next_cursor=cursor)

    def plan(self, query: DossierQuery, today: dt.date) -> list[str]:
        """How SQLite runs `query` (EXPLAIN QUERY PLAN): proof that an index serves it."""
        return self.store.plan(*self._sql(query, today))

    def _sql(self, query: DossierQuery, today: dt.date) -> tuple[str, list[Any]]:
        within = (self.calendar.add_working_days(today, query.due_within_days)
                  if query.due_within_days is not None else None)
        hits = None
        match = text_match(search_key(query.text)) if query.text is not None else None
        if match is not None:
            found = self.store.text_hits(match, TEXT_CAP)
            hits = found if len(found) < TEXT_CAP else None  # common: test rows in order
        return search_sql(query, today, within, hits)

    def rows(self, received_from: dt.date | None, received_to: dt.date | None,
             today: dt.date) -> list[RegisterRow]:
        sql, params = received_sql(received_from, received_to)
        return [as_of_day(r, today) for _, _, r in self.store.select(sql, params)]

    def docs(self, dossier_id: str) -> DossierDocs | None:
        """The stored documents of a dossier (dossier, events, outcome, result)."""
        return self.store.docs(dossier_id)

    def folded(self, dossier_id: str) -> Folded | None:
        docs = self.store.docs(dossier_id)
        return fold_docs(docs, self.catalogue, self.calendar) if docs else None

    def events(self, dossier_id: str) -> list[Event]:
        folded = self.folded(dossier_id)
        return list(folded.events) if folded else []

    def state(self, dossier_id: str) -> DossierState | None:
        folded = self.folded(dossier_id)
        return folded.state if folded else None

    def policy(self, dossier_id: str) -> DeadlinePolicy | None:
        folded = self.folded(dossier_id)
        return folded.policy if folded else None

    def dossier_id_for(self, provisional_code: str) -> str | None:
        return self.store.dossier_id_for(provisional_code)

    def count(self) -> int:
        return self.store.count()
