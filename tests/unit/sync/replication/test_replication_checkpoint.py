"""The checkpoint arithmetic: only ever up to the highest sequence below which all is done."""

import pytest

from sync.protocol.checkpoint import (
    HISTORY_LIMIT,
    SeqTracker,
    SessionStats,
    next_log,
    start_seq,
    start_seq_target_only,
)


def test_checkpoint_waits_for_earlier_batches():
    tracker = SeqTracker(start="0-g")
    first, second, third = tracker.begin("5-g"), tracker.begin("9-g"), tracker.begin("12-g")
    tracker.finish(third)
    assert tracker.checkpointable == "0-g"
    tracker.finish(first)
    assert tracker.checkpointable == "5-g"
    tracker.finish(second)
    assert tracker.checkpointable == "12-g"
    assert tracker.in_flight == 0


def test_sequences_are_never_compared():
    # Feed order decides, even when values would sort the other way (opaque seqs).
    tracker = SeqTracker(start=None)
    a, b = tracker.begin({"z": 1}), tracker.begin([0])
    tracker.finish(a)
    tracker.finish(b)
    assert tracker.checkpointable == [0]


def test_finishing_twice_or_unknown_is_an_error():
    tracker = SeqTracker(start=0)
    ticket = tracker.begin(3)
    tracker.finish(ticket)
    with pytest.raises(ValueError):
        tracker.finish(ticket)
    with pytest.raises(ValueError):
        tracker.finish(42)


def _log(session, last, history):
    return {"session_id": session, "source_last_seq": last, "history": history}


def test_start_seq_same_session():
    assert start_seq(_log("s2", 40, []), _log("s2", 40, [])) == 40


def test_start_seq_newest_common_session():
    source = _log("s3", 90, [{"session_id": "s3", "recorded_seq": 90},
                             {"session_id": "s2", "recorded_seq": 40},
                             {"session_id": "s1", "recorded_seq": 10}])
    target = _log("s9", 70, [{"session_id": "s9", "recorded_seq": 70},
                             {"session_id": "s2", "recorded_seq": 40},
                             {"session_id": "s1", "recorded_seq": 10}])
    assert start_seq(source, target) == 40


def test_start_seq_nothing_in_common_or_missing():
    assert start_seq(_log("a", 5, [{"session_id": "a", "recorded_seq": 5}]),
                     _log("b", 7, [{"session_id": "b", "recorded_seq": 7}])) == 0
    assert start_seq(None, _log("b", 7, [])) == 0
    assert start_seq(_log("b", 7, []), None) == 0
    assert start_seq_target_only(_log("b", "7-x", [])) == "7-x"
    assert start_seq_target_only(None) == 0


def test_next_log_keeps_history_bounded_and_newest_first():
    log = None
    for n in range(HISTORY_LIMIT + 5):
        log = next_log(log, replication_id_version=1, session_id=f"s{n}", start_time="t",
                       end_time="t", start_last_seq=0, recorded_seq=n,
                       stats=SessionStats(docs_written=n))
    assert log is not None
    assert len(log["history"]) == HISTORY_LIMIT
    assert log["history"][0]["session_id"] == f"s{HISTORY_LIMIT + 4}"
    assert log["source_last_seq"] == HISTORY_LIMIT + 4
    assert log["replication_id_version"] == 1


def test_next_log_same_session_replaces_its_entry():
    log = next_log(None, replication_id_version=1, session_id="s", start_time="t",
                   end_time="t", start_last_seq=0, recorded_seq=1, stats=SessionStats())
    log = next_log(log, replication_id_version=1, session_id="s", start_time="t",
                   end_time="t", start_last_seq=0, recorded_seq=2, stats=SessionStats())
    assert [h["recorded_seq"] for h in log["history"]] == [2]


def test_feed_pages_split_into_worker_batches():
    from sync.protocol.model import Change, ChangesPage
    from sync.replicator import split_page

    rows = tuple(Change(f"{i}-s", f"d{i}", ("1-a",)) for i in range(7))
    batches = split_page(ChangesPage(rows, "9-end", scanned=7), 3)
    assert [len(b) for b, _ in batches] == [3, 3, 1]
    assert [seq for _, seq in batches] == ["2-s", "5-s", "9-end"]
    assert split_page(ChangesPage((), "12-x", scanned=4), 3) == [((), "12-x")]
