"""Reading the dossier list's query string, and the keyset cursors (pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from api.errors import InvalidInput
from api.register.queries import DossierQuery, decode_cursor, encode_cursor, parse_query
from api.register.sql import search_sql, text_match
from dossiers.validation import search_key

STATUSES = ("received", "processing", "submitted", "needs_attention")


def parse(*pairs: tuple[str, str]) -> DossierQuery:
    return parse_query(pairs, STATUSES)


def test_every_parameter_is_read() -> None:
    cursor = encode_cursor("2026-03-09", "dossier:A")
    query = parse(("status", "received"), ("status", "processing"), ("status", "received"),
                  ("procedure", "1.000419"), ("officer", "officer1"), ("ward", "00004"),
                  ("received_from", "2026-03-01"), ("received_to", "2026-03-31"),
                  ("due_from", "2026-03-02"), ("due_to", "2026-04-30"), ("overdue", "false"),
                  ("due_within", "3"), ("q", "Nguyễn Thị"), ("cursor", cursor),
                  ("limit", "200"))
    assert query == DossierQuery(
        status=("received", "processing"), procedure="1.000419", officer="officer1",
        ward="00004", received_from=dt.date(2026, 3, 1), received_to=dt.date(2026, 3, 31),
        due_from=dt.date(2026, 3, 2), due_to=dt.date(2026, 4, 30), overdue=False,
        due_within_days=3, text="Nguyễn Thị", cursor=cursor, limit=200)
    assert parse() == DossierQuery()


@pytest.mark.parametrize(("pairs", "named"), [
    ((("status", "lost"),), "status"),
    ((("limit", "0"),), "limit"),
    ((("limit", "201"),), "limit"),
    ((("limit", "ten"),), "limit"),
    ((("due_from", "2026-13-01"),), "due_from"),
    ((("received_to", "yesterday"),), "received_to"),
    ((("overdue", "maybe"),), "overdue"),
    ((("due_within", "-1"),), "due_within"),
    ((("cursor", "not-a-cursor"),), "cursor"),
    ((("q", "  "),), "q"),
    ((("officer", "a"), ("officer", "b")), "officer"),
    ((("stauts", "received"),), "stauts"),
    ((("due_from", "2026-05-01"), ("due_to", "2026-04-01")), "due_from"),
])
def test_a_bad_parameter_is_named(pairs: tuple[tuple[str, str], ...], named: str) -> None:
    with pytest.raises(InvalidInput, match=f"«{named}»"):
        parse(*pairs)


def test_cursor_round_trip() -> None:
    assert decode_cursor(encode_cursor("9999-12-31", "dossier:Đ-1")) == ("9999-12-31",
                                                                         "dossier:Đ-1")


def test_text_is_matched_by_the_rows_found_or_row_by_row() -> None:
    today = dt.date(2026, 3, 20)
    tested, tested_params = search_sql(DossierQuery(text="Ân_%"), today, None)
    assert "LIKE" in tested and "%an\\_\\%%" in tested_params
    narrowed, narrowed_params = search_sql(DossierQuery(text="Nguyễn"), today, None, [3, 5])
    assert "json_each" in narrowed and "[3, 5]" in narrowed_params
    assert text_match(search_key('Nguyễn "Thị')) == '"nguyen ""thi"'
    assert text_match("an") is None
