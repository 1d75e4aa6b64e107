"""The audit log's pure parts: entry keys, parameter parsing, range planning."""

from __future__ import annotations

import datetime as dt

import pytest

from api.audit.entries import (
    HIGH,
    PRIMARY,
    AuditEntry,
    documents,
    from_document,
    new_entry,
    stamp,
)
from api.audit.queries import AuditQuery, encode_cursor, parse_query, plan, wanted
from api.errors import InvalidInput

AT = dt.datetime(2026, 3, 5, 1, 2, 3, 45, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)


def _entry(action: str = "dossier.read", dossiers: tuple[str, ...] = ("dossier:A",),
           at: dt.datetime = AT, actor: str = "handler1") -> AuditEntry:
    return new_entry(actor, "handler", "dev-1", action, dossiers, "", at)


def test_stamp_is_fixed_width_utc_with_microseconds() -> None:
    local = dt.datetime(2026, 3, 5, 8, 2, 3, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    assert stamp(local) == "2026-03-05T01:02:03.000000Z"
    assert stamp(AT) == "2026-03-05T01:02:03.000045Z"


def test_ids_sort_in_time_order_and_are_unique() -> None:
    times = [AT + dt.timedelta(microseconds=n) for n in (0, 9, 10, 999_999, 1_000_000)]
    ids = [new_entry("a", "handler", "d", "x", (), "", t).id for t in times]
    assert ids == sorted(ids)
    same = {new_entry("a", "handler", "d", "x", (), "", AT).id for _ in range(200)}
    assert len(same) == 200
    assert all(i.startswith(PRIMARY + "2026-03-05T01:02:03.000045Z:") for i in same)


def test_documents_are_the_entry_and_one_copy_per_dossier_and_actor() -> None:
    entry = new_entry("u:1", "handler", "dev", "dossier.list", ["dossier:A", "dossier:B:x",
                                                                  "dossier:A"], "q=1", AT)
    docs = documents(entry)
    assert entry.dossier_ids == ("dossier:A", "dossier:B:x")  # duplicates dropped
    ids = [d["_id"] for d in docs]
    suffix = entry.id[len(PRIMARY):]
    assert ids == [entry.id, f"by-dossier:dossier%3AA:{suffix}",
                   f"by-dossier:dossier%3AB%3Ax:{suffix}", f"by-actor:u%3A1:{suffix}"]
    assert all("_rev" not in d for d in docs)
    assert from_document(docs[0]) == entry
    for pointer in docs[1:]:  # small: the id and what queries filter on, not the entry
        assert pointer == {"_id": pointer["_id"], "type": "audit-index", "schema": 1,
                           "entry": entry.id, "actor": "u:1", "action": "dossier.list"}


def test_a_listing_keeps_its_ids_in_the_entry_with_only_the_actor_pointer() -> None:
    entry = new_entry("u:1", "handler", "dev", "dossier.list",
                      [f"dossier:{n}" for n in range(50)], "status=accepted", AT)
    docs = documents(entry, listing=True)
    suffix = entry.id[len(PRIMARY):]
    assert [d["_id"] for d in docs] == [entry.id, f"by-actor:u%3A1:{suffix}"]
    assert from_document(docs[0]).dossier_ids == tuple(f"dossier:{n}" for n in range(50))


def test_detail_is_cut_short() -> None:
    entry = new_entry("a", "handler", "d", "x", (), "z" * 5000, AT)
    assert len(entry.detail) == 500


def test_parse_dates_are_local_days() -> None:
    query = parse_query({"from": "2026-03-01", "to": "2026-03-31", "dossier": "dossier:A"})
    assert query.since == dt.datetime(2026, 2, 28, 17, 0, tzinfo=dt.UTC)
    assert query.until == dt.datetime(2026, 3, 31, 16, 59, 59, 999999, tzinfo=dt.UTC)
    keys = plan(query, NOW)
    assert keys.start == "by-dossier:dossier%3AA:2026-02-28T17:00:00.000000Z"
    assert keys.end == "by-dossier:dossier%3AA:2026-03-31T16:59:59.999999Z" + HIGH


@pytest.mark.parametrize(("params", "named"), [
    ({"limit": "0"}, "limit"), ({"limit": "501"}, "limit"), ({"limit": "x"}, "limit"),
    ({"from": "yesterday"}, "from"), ({"to": "2026-02-30"}, "to"),
    ({"from": "2026-03-01T10:00:00"}, "from"),
    ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
    ({"cursor": "%%%"}, "cursor"), ({"sort": "desc"}, "sort"), ({"actor": "a\x00b"}, "actor"),
    ({"from": "0001-01-01"}, "from"),
    ({"from": "0001-01-01T00:00:00+14:00"}, "from"), ({"limit": "\uff15"}, "limit"),
])
def test_bad_parameters_are_named(params: dict[str, str], named: str) -> None:
    with pytest.raises(InvalidInput, match=f"'{named}'"):
        parse_query(params)


def test_a_cursor_from_another_question_is_refused() -> None:
    end = "by-dossier:dossier%3AA:2026-11-27T09:00:00.000000Z" + HIGH
    foreign = encode_cursor("by-actor:someone:2026-03-05T01:02:03.000045Z:abc",
                            "by-actor:someone:" + HIGH)
    with pytest.raises(InvalidInput, match="'cursor'"):
        parse_query({"dossier": "dossier:A", "cursor": foreign}, NOW)
    after = "by-dossier:dossier%3AA:2026-03-05T01:02:03.000045Z:abc"
    keys = plan(parse_query({"dossier": "dossier:A", "cursor": encode_cursor(after, end)}),
                dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    assert (keys.start, keys.end, keys.after) == (after, end, after)  # the first page's end
    with pytest.raises(InvalidInput, match="'cursor'"):  # not the `to` it was made with
        parse_query({"dossier": "dossier:A", "to": "2026-12-01",
                     "cursor": encode_cursor(after, end)}, NOW)


def test_range_without_filters_is_the_primary_entries_up_to_now() -> None:
    keys = plan(AuditQuery(), NOW)
    assert (keys.start, keys.end, keys.after) == (PRIMARY, PRIMARY + stamp(NOW) + HIGH, None)
    assert plan(AuditQuery(actor="handler1"), NOW).start == "by-actor:handler1:"


def test_wanted_checks_what_the_range_does_not() -> None:
    for row in documents(_entry()):  # the entry, and each pointer to it
        assert wanted(AuditQuery(dossier="dossier:A", action="dossier.read"), row)
        assert not wanted(AuditQuery(dossier="dossier:A", action="dossier.list"), row)
        assert not wanted(AuditQuery(dossier="dossier:A", actor="other"), row)
        assert wanted(AuditQuery(actor="handler1"), row)


@pytest.mark.parametrize("action", ["read", "Dossier.read", "dossier read", "dossier.", ""])
def test_actions_are_dotted_lower_case_words(action: str) -> None:
    from api.audit.log import ACTION

    assert not ACTION.match(action)
    assert ACTION.match("dossier.event.supplement_requested")
    assert ACTION.match("export.dongbo")
