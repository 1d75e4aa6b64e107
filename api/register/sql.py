"""The register's SQLite schema and the SQL of a `DossierQuery`: text only, no connection.

Order: due date ascending (rows without one last), then dossier id — the handler's
question is "what falls due next". Pages are keyset pages on (due key, dossier id): a
row inserted while someone pages appears at its place in that order and never shifts the
rows already shown, so a walk sees every row that existed throughout exactly once.

Every filter of the list has an index that returns rows in that order (status, procedure,
officer, ward), the open-and-dated rows (overdue, due within) have a partial one. Text is
a substring match on the folded name and the identity number, by one of two plans: a rare
key (fewer than TEXT_CAP matches in an FTS5 trigram index) narrows to those rows, then
sorts them; a common or short key walks the list's order and tests each row, which finds a
page of matches after a few thousand rows at most.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from api.register.queries import NO_DUE, DossierQuery, decode_cursor, due_key
from dossiers.validation import search_key

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dossier_docs (
    dossier_id TEXT PRIMARY KEY, provisional_code TEXT NOT NULL, body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS dossier_docs_code ON dossier_docs (provisional_code);
CREATE TABLE IF NOT EXISTS event_docs (
    event_id TEXT PRIMARY KEY, provisional_code TEXT NOT NULL, body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS event_docs_code ON event_docs (provisional_code);
CREATE TABLE IF NOT EXISTS outcome_docs (dossier_id TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS result_docs (dossier_id TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    n INTEGER PRIMARY KEY,
    dossier_id TEXT NOT NULL UNIQUE,
    provisional_code TEXT NOT NULL,
    procedure_code TEXT NOT NULL,
    officer_id TEXT NOT NULL,
    ward TEXT,
    status TEXT NOT NULL,
    received_day TEXT,
    due_key TEXT NOT NULL,
    open INTEGER NOT NULL,
    search TEXT NOT NULL,
    row BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS rows_due ON rows (due_key, dossier_id);
CREATE INDEX IF NOT EXISTS rows_status ON rows (status, due_key, dossier_id);
CREATE INDEX IF NOT EXISTS rows_procedure ON rows (procedure_code, due_key, dossier_id);
CREATE INDEX IF NOT EXISTS rows_officer ON rows (officer_id, due_key, dossier_id);
CREATE INDEX IF NOT EXISTS rows_ward ON rows (ward, due_key, dossier_id);
CREATE INDEX IF NOT EXISTS rows_open ON rows (due_key, dossier_id) WHERE open = 1;
CREATE INDEX IF NOT EXISTS rows_received ON rows (received_day);
CREATE VIRTUAL TABLE IF NOT EXISTS rows_text USING fts5 (
    search, content = 'rows', content_rowid = 'n', tokenize = 'trigram');
"""

TRIGRAM = 3
TEXT_CAP = 1000
TEXT_HITS = "SELECT rowid FROM rows_text WHERE rows_text MATCH ? LIMIT ?"


def text_match(key: str) -> str | None:
    """The FTS5 query for a folded key (a quoted phrase: with trigrams, a substring), or
    None when the key is too short for trigrams."""
    return '"' + key.replace('"', '""') + '"' if len(key) >= TRIGRAM else None


def search_sql(query: DossierQuery, today: dt.date, due_within_end: dt.date | None,
               text_hits: list[int] | None = None) -> tuple[str, list[Any]]:
    """SELECT of one page (limit + 1 rows, so the caller knows whether more follow).

    `due_within_end` is the last day of `query.due_within_days` working days from `today`
    (the caller owns the calendar); `text_hits`, the rows the trigram index matched for
    `query.text` when they were fewer than TEXT_CAP (None: test each row instead)."""
    where, params = _filters(query, today, due_within_end, text_hits)
    if query.cursor is not None:
        key, dossier_id = decode_cursor(query.cursor)
        where.append("(due_key, dossier_id) > (?, ?)")
        params += [key, dossier_id]
    sql = "SELECT due_key, dossier_id, row FROM rows"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY due_key, dossier_id LIMIT ?"
    return sql, [*params, query.limit + 1]


def _filters(query: DossierQuery, today: dt.date, due_within_end: dt.date | None,
             text_hits: list[int] | None) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if query.status:
        where.append(f"status IN ({', '.join('?' * len(query.status))})")
        params += list(query.status)
    for column, value in (("procedure_code", query.procedure), ("officer_id", query.officer),
                          ("ward", query.ward)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    _ranges(query, where, params)
    if query.overdue is not None:
        # Overdue: still open (no end of processing) and its current appointment has passed.
        where.append("open = 1 AND due_key < ?" if query.overdue
                     else "(open = 0 OR due_key >= ?)")
        params.append(today.isoformat())
    if due_within_end is not None:
        where.append("open = 1 AND due_key >= ? AND due_key <= ?")
        params += [today.isoformat(), due_within_end.isoformat()]
    if query.text is not None:
        _text(query.text, text_hits, where, params)
    return where, params


def _ranges(query: DossierQuery, where: list[str], params: list[Any]) -> None:
    if query.received_from is not None:
        where.append("received_day >= ?")
        params.append(query.received_from.isoformat())
    if query.received_to is not None:
        where.append("received_day <= ?")
        params.append(query.received_to.isoformat())
    if query.due_from is not None:
        where.append("due_key >= ? AND due_key < ?")
        params += [due_key(query.due_from), NO_DUE]
    if query.due_to is not None:
        where.append("due_key <= ?")
        params.append(due_key(query.due_to))


def _text(text: str, hits: list[int] | None, where: list[str], params: list[Any]) -> None:
    if hits is not None:
        where.append("n IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(hits))
        return
    key = search_key(text)
    where.append("search LIKE ? ESCAPE '\\'")
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    params.append(f"%{escaped}%")


def received_sql(received_from: dt.date | None,
                 received_to: dt.date | None) -> tuple[str, list[Any]]:
    """Every row received in a date range (either end open), oldest first."""
    where: list[str] = []
    params: list[Any] = []
    _ranges(DossierQuery(received_from=received_from, received_to=received_to), where, params)
    sql = "SELECT due_key, dossier_id, row FROM rows"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql + " ORDER BY received_day, dossier_id", params
