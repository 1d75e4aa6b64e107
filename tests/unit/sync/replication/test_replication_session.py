"""The protocol steps, driven by hand: each test answers the calls the core yields."""

from __future__ import annotations

import pytest

from sync.errors import MissingStub, NotFound, NotSupported, TooLarge, Unauthorized
from sync.protocol import session as session_module
from sync.protocol.ids import ReplicationSpec
from sync.protocol.model import Change, FetchError, Missing, PeerInfo, Revision, WriteFailure
from sync.protocol.session import (
    Call,
    Fork,
    Parallel,
    copy_batch,
    open_session,
    record_checkpoint,
)


def run(flow, answer):
    """Drive `flow`; `answer(call)` returns a result or an exception to throw in."""
    calls = []
    try:
        step = next(flow)
        while True:
            if isinstance(step, Fork):  # each branch driven in turn with the same answers
                results = []
                for branch in step.flows:
                    value, branch_calls = run(branch, answer)
                    calls.extend(branch_calls)
                    results.append(value)
                step = flow.send(results)
                continue
            if isinstance(step, Parallel):  # answered one by one; errors go back as objects
                calls.extend(step.calls)
                step = flow.send([answer(c) for c in step.calls])
                continue
            calls.append(step)
            result = answer(step)
            step = flow.throw(result) if isinstance(result, Exception) else flow.send(result)
    except StopIteration as stop:
        return stop.value, calls


def session(**kw):
    def answer(call: Call):
        return {"info": PeerInfo("db", 0), "get_local": None}[call.method]
    value, _ = run(open_session(ReplicationSpec("s", "t"), create_target=False,
                                target_only=False, **kw), answer)
    return value


def doc(doc_id, rev, **extra):
    return {"_id": doc_id, "_rev": rev, "_revisions": {"start": 1, "ids": [rev[2:]]}, **extra}


def test_open_session_creates_target_when_asked():
    seen = []

    def answer(call: Call):
        seen.append((call.side, call.method))
        if call.method == "info" and call.side == "target" and ("target", "create") not in seen:
            return NotFound("no db")
        if call.method == "get_local":
            return None
        return PeerInfo("db", 0) if call.method == "info" else None

    value, _ = run(open_session(ReplicationSpec("s", "t"), create_target=True,
                                target_only=False), answer)
    assert ("target", "create") in seen and value.start_seq == 0

    with pytest.raises(NotFound):
        run(open_session(ReplicationSpec("s", "t"), create_target=False, target_only=False),
            lambda c: NotFound("no db") if c.side == "target" else PeerInfo("db", 0))


def test_resumes_from_common_checkpoint_and_target_only_skips_source():
    log = {"_id": "_local/x", "_rev": "0-3", "session_id": "old", "source_last_seq": "77-g",
           "history": [{"session_id": "old", "recorded_seq": "77-g"}]}

    def answer(call: Call):
        return PeerInfo("db", 0) if call.method == "info" else dict(log)

    value, calls = run(open_session(ReplicationSpec("s", "t"), create_target=False,
                                    target_only=True), answer)
    assert value.start_seq == "77-g"
    assert not [c for c in calls if c.side == "source" and c.method == "get_local"]


def test_opening_reads_are_asked_at_once_and_older_ids_only_when_the_target_has_no_log(
        monkeypatch):
    monkeypatch.setattr(session_module, "candidate_ids", lambda spec: [(2, "new"), (1, "old")])
    log = {"_id": "_local/x", "_rev": "0-1", "session_id": "s1", "source_last_seq": 9,
           "history": [{"session_id": "s1", "recorded_seq": 9}]}

    def open_with(logs):
        return run(open_session(ReplicationSpec("s", "t"), create_target=False,
                                target_only=False),
                   lambda c: PeerInfo("db", 0) if c.method == "info" else logs.get(c.args[0]))

    first = next(open_session(ReplicationSpec("s", "t"), create_target=False, target_only=False))
    assert isinstance(first, Parallel)
    assert sorted((c.side, c.method, c.args) for c in first.calls) == [
        ("source", "get_local", ("_local/new",)), ("source", "info", ()),
        ("target", "get_local", ("_local/new",)), ("target", "info", ())]

    value, calls = open_with({"_local/new": log})
    assert value.start_seq == 9 and len(calls) == 4  # found under the current id

    value, calls = open_with({"_local/old": log})
    assert [(c.side, c.args) for c in calls[4:]] == [("target", ("_local/old",)),
                                                    ("source", ("_local/old",))]
    assert value.start_seq == 9 and value.replication_id == "new"
    assert "_rev" not in value.logs["target"]  # carried over, written under the new id


def test_an_error_in_the_opening_reads_stops_the_session():
    def answer(call: Call):
        if call.side == "source" and call.method == "get_local":
            return Unauthorized("name or password is incorrect")
        return PeerInfo("db", 0) if call.method == "info" else None

    with pytest.raises(Unauthorized):
        run(open_session(ReplicationSpec("s", "t"), create_target=False, target_only=False),
            answer)


def test_copy_batch_fetches_only_missing_and_writes_with_bulk_docs():
    s = session()
    changes = [Change(1, "a", ("1-a",)), Change(2, "b", ("1-b", "1-c"))]

    def answer(call: Call):
        if call.method == "revs_diff":
            assert call.args[0] == {"a": ["1-a"], "b": ["1-b", "1-c"]}
            return [Missing("b", ("1-c",))]
        if call.method == "bulk_get":
            return [Revision(doc("b", "1-c"))]
        if call.method == "bulk_docs":
            return []
        raise AssertionError(call)

    result, _ = run(copy_batch(s, changes), answer)
    assert (result.missing_checked, result.missing_found, result.docs_written) == (3, 1, 1)


def test_falls_back_to_open_revs_without_bulk_get():
    s = session()

    def answer(call: Call):
        if call.method == "revs_diff":
            return [Missing("a", ("2-x", "2-y"))]
        if call.method == "bulk_get":
            return NotSupported("no _bulk_get")
        if call.method == "open_revs":
            assert call.args[:2] == ("a", ["2-x", "2-y"])
            return [Revision(doc("a", "2-x")), FetchError("a", "2-y", "not_found", "missing")]
        return []

    result, calls = run(copy_batch(s, [Change(1, "a", ("2-x", "2-y"))]), answer)
    assert s.use_bulk_get is False
    assert result.docs_written == 1 and len(result.failures) == 1
    # the next batch goes straight to open_revs
    _, calls = run(copy_batch(s, [Change(2, "a", ("2-x",))]), answer)
    assert "bulk_get" not in [c.method for c in calls]


def test_413_halves_the_batch():
    s = session()
    sizes = []

    def answer(call: Call):
        if call.method == "revs_diff":
            return [Missing(f"d{i}", ("1-a",)) for i in range(8)]
        if call.method == "bulk_get":
            return [Revision(doc(w.id, w.rev)) for w in call.args[0]]
        if call.method == "bulk_docs":
            sizes.append(len(call.args[0]))
            if len(call.args[0]) > 2:
                return TooLarge("too big")
            if any(d["_id"] == "d7" for d in call.args[0]):
                return [WriteFailure("d7", "1-a", "forbidden", "no")]
            return []
        raise AssertionError(call)

    changes = [Change(i, f"d{i}", ("1-a",)) for i in range(8)]
    result, _ = run(copy_batch(s, changes), answer)
    assert sizes == [8, 4, 2, 2, 4, 2, 2]
    assert result.docs_written == 7
    assert result.failures == (WriteFailure("d7", "1-a", "forbidden", "no"),)


def test_attachments_newer_than_target_ancestors_are_fetched_with_bodies():
    s = session()
    stub = {"content_type": "text/plain", "stub": True, "length": 3, "digest": "md5-x"}

    def answer(call: Call):
        if call.method == "revs_diff":
            return [Missing("old", ("3-n",), ("2-p",)), Missing("new", ("3-m",), ("1-q",))]
        if call.method == "bulk_get":
            return [Revision(doc("old", "3-n", _attachments={"f": {**stub, "revpos": 2}})),
                    Revision(doc("new", "3-m", _attachments={"f": {**stub, "revpos": 3}}))]
        if call.method == "fetch_attachments":  # the stub revision bulk_get gave
            [wanted] = call.args[0]
            assert (wanted.revision.id, wanted.revision.rev, wanted.atts_since) == (
                "new", "3-m", ("1-q",))
            att = {"content_type": "text/plain", "follows": True, "length": 3, "revpos": 3}
            return [Revision(doc("new", "3-m", _attachments={"f": att}), {"f": b"abc"})]
        if call.method == "bulk_docs":
            assert [d["_id"] for d in call.args[0]] == ["old"]  # stub only: goes in bulk
            return []
        if call.method == "put_revisions":
            assert [r.blobs for r in call.args[0]] == [{"f": b"abc"}]
            return []
        raise AssertionError(call)

    result, _ = run(copy_batch(s, [Change(1, "old", ("3-n",)), Change(2, "new", ("3-m",))]),
                    answer)
    assert result.docs_written == 2 and not result.failures


def test_missing_stub_is_fetched_again_in_full():
    s = session()
    stub = {"stub": True, "revpos": 1, "digest": "md5-x", "length": 1}
    puts = []

    def answer(call: Call):
        if call.method == "revs_diff":
            return [Missing("a", ("2-b",), ("1-a",))]
        if call.method == "bulk_get":
            return [Revision(doc("a", "2-b", _attachments={"f": stub}))]
        if call.method == "bulk_docs":
            return [WriteFailure("a", "2-b", "missing_stub", "no blob")]
        if call.method == "open_revs":
            assert call.args == ("a", ["2-b"], ())
            return [Revision(doc("a", "2-b", _attachments={"f": {"follows": True}}), {"f": b"x"})]
        if call.method == "put_revision":
            puts.append(call.args[0])
            return None if len(puts) == 1 else MissingStub("still")
        raise AssertionError(call)

    result, _ = run(copy_batch(s, [Change(1, "a", ("2-b",))]), answer)
    assert result.docs_written == 1 and len(puts) == 1


def test_checkpoint_writes_target_then_source_with_revs():
    s = session()
    written = []

    def answer(call: Call):
        if call.method == "put_local":
            written.append((call.side, call.args[0]))
            return f"0-{len(written)}"
        return None

    run(record_checkpoint(s, 10, start_time="a", end_time="b"), answer)
    run(record_checkpoint(s, 20, start_time="a", end_time="c"), answer)
    assert [side for side, _ in written] == ["target", "source", "target", "source"]
    assert written[2][1]["_rev"] == "0-1" and written[3][1]["_rev"] == "0-2"
    assert written[3][1]["source_last_seq"] == 20
    assert written[0][1]["_id"] == s.log_id


def test_first_sync_skips_revs_diff_while_everything_is_missing():
    s = session()  # start_seq 0, empty target (doc_count defaults to None: not known empty)
    s.target_info = PeerInfo("db", 0, doc_count=0)
    methods = []

    def answer(call: Call):
        methods.append(call.method)
        if call.method == "revs_diff":
            return [Missing(doc_id, tuple(revs)) for doc_id, revs in call.args[0].items()]
        if call.method == "bulk_get":
            return [Revision(doc(w.id, w.rev)) for w in call.args[0]]
        return []

    for n in range(12):
        changes = [Change(i, f"d{n}-{i}", ("1-a",)) for i in range(100)]
        result, _ = run(copy_batch(s, changes), answer)
        assert result.docs_written == 100
    # probe, then 10 batches without asking, then probe again
    assert methods.count("revs_diff") == 2

    resumed = session()
    resumed.target_info = PeerInfo("db", 0, doc_count=5)
    methods.clear()
    for n in range(3):
        run(copy_batch(resumed, [Change(i, f"e{n}-{i}", ("1-a",)) for i in range(100)]), answer)
    assert methods.count("revs_diff") == 3  # a target holding documents is always asked


def test_first_generation_bodies_from_the_feed_skip_bulk_get():
    s = session()
    feed = [Change(1, "a", ("1-aa",), doc={"_id": "a", "_rev": "1-aa", "v": 1}),
            Change(2, "b", ("2-bb",), doc={"_id": "b", "_rev": "2-bb"}),  # no history: fetch
            Change(3, "c", ("1-cc",), doc={"_id": "c", "_rev": "1-cc",  # stub says nothing
                                           "_attachments": {"f": {"stub": True}}}),
            Change(4, "d", ("1-dd",), doc={"_id": "d", "_rev": "1-dd", "_attachments": {
                "f": {"stub": True, "revpos": 1, "length": 4, "digest": "md5-x"}}})]
    fetched, written, bodies = [], [], []

    def answer(call: Call):
        if call.method == "revs_diff":
            return [Missing(i, tuple(r)) for i, r in call.args[0].items()]
        if call.method == "bulk_get":
            fetched.extend(w.id for w in call.args[0])
            return [Revision(doc(w.id, w.rev)) for w in call.args[0]]
        if call.method == "fetch_attachments":  # straight from the feed's stubs
            [wanted] = call.args[0]
            stubbed = wanted.revision
            assert stubbed.doc["_revisions"] == {"start": 1, "ids": ["dd"]}
            assert wanted.atts_since == ()
            bodies.append(stubbed.id)
            att = {"content_type": "text/plain", "follows": True, "revpos": 1}
            return [Revision({**stubbed.doc, "_attachments": {"f": att}}, {"f": b"body"})]
        if call.method == "put_revisions":
            written.extend(r.doc for r in call.args[0])
            return []
        if call.method == "bulk_docs":
            written.extend(call.args[0])
            return []
        raise AssertionError(call)

    result, _ = run(copy_batch(s, feed), answer)
    assert fetched == ["b", "c"] and bodies == ["d"] and result.docs_written == 4
    from_feed = next(d for d in written if d["_id"] == "a")
    assert from_feed["_revisions"] == {"start": 1, "ids": ["aa"]} and from_feed["v"] == 1


def test_attachment_bodies_are_copied_in_groups_bounded_by_their_length():
    from sync.protocol.session import BULK_GROUP_BYTES, HEAVY_BYTES

    s = session()
    s.target_info = PeerInfo("db", 0, multipart_writes=False)  # inline _bulk_docs target
    # one _bulk_docs per group; groups start at HEAVY_BYTES (the first write comes soon)
    # and double up to BULK_GROUP_BYTES (each request has a fixed cost on the server)
    h = HEAVY_BYTES
    sizes = {"a": h // 2, "b": h // 2, "c": 3 * h, "d": h, "e": h, "f": BULK_GROUP_BYTES}
    stub = {"content_type": "image/jpeg", "stub": True, "revpos": 1, "digest": "md5-x"}
    writes = []

    def answer(call: Call):
        if call.method == "revs_diff":
            return [Missing(i, tuple(r)) for i, r in call.args[0].items()]
        if call.method == "bulk_get":
            return [Revision(doc(w.id, w.rev, _attachments={"f": {**stub, "length": sizes[w.id]}}))
                    for w in call.args[0]]
        if call.method == "fetch_attachments":
            assert all(w.atts_since == () for w in call.args[0])
            att = {"content_type": "image/jpeg", "follows": True, "revpos": 1}
            return [Revision({**w.revision.doc, "_attachments": {"f": att}}, {"f": b"body"})
                    for w in call.args[0]]
        if call.method == "bulk_docs":
            writes.append([d["_id"] for d in call.args[0]])
            assert all(d["_attachments"]["f"]["data"] == "Ym9keQ==" for d in call.args[0])
            return []
        raise AssertionError(call)

    flow = copy_batch(s, [Change(n, i, ("1-a",)) for n, i in enumerate("abcdef")])
    step = next(flow)
    while not isinstance(step, Fork):  # revs_diff, bulk_get: nothing written yet
        step = flow.send(answer(step))
    assert writes == [] and len(step.flows) == 4
    assert step.weights == (h, 3 * h, 2 * h, BULK_GROUP_BYTES)  # what each branch holds
    # caps 2h, 4h, 8h, 16h: a and b fill the first; c (over its cap) goes alone; d and e
    # share the third; f starts the fourth
    branches = [run(branch, answer)[0] for branch in step.flows]
    assert writes == [["a", "b"], ["c"], ["d", "e"], ["f"]]
    with pytest.raises(StopIteration) as stop:
        flow.send(branches)
    result = stop.value.value
    assert result.docs_read == result.docs_written == 6 and not result.failures


def test_a_target_taking_bodies_apart_gets_smaller_groups_each_written_in_one_call():
    from sync.protocol.session import APART_BYTES

    s = session()  # the default target takes bodies apart (multipart, the store)
    stub = {"content_type": "image/jpeg", "stub": True, "revpos": 1, "digest": "md5-x",
            "length": APART_BYTES // 2}
    puts = []

    def answer(call: Call):
        if call.method == "revs_diff":
            return [Missing(i, tuple(r)) for i, r in call.args[0].items()]
        if call.method == "bulk_get":
            return [Revision(doc(w.id, w.rev, _attachments={"f": stub})) for w in call.args[0]]
        if call.method == "fetch_attachments":
            att = {"content_type": "image/jpeg", "follows": True, "revpos": 1}
            return [Revision({**w.revision.doc, "_attachments": {"f": att}}, {"f": b"x"})
                    for w in call.args[0]]
        if call.method == "put_revisions":  # a group in one call (one store transaction)
            puts.append([r.id for r in call.args[0]])
            return [WriteFailure("d", "1-a", "forbidden", "no")] if "d" in puts[-1] else []
        raise AssertionError(call)

    flow = copy_batch(s, [Change(n, i, ("1-a",)) for n, i in enumerate("abcde")])
    step = next(flow)
    while not isinstance(step, Fork):
        step = flow.send(answer(step))
    assert step.weights == (APART_BYTES, APART_BYTES, APART_BYTES // 2)
    branches = [run(branch, answer)[0] for branch in step.flows]
    assert puts == [["a", "b"], ["c", "d"], ["e"]]
    assert sum(b.docs_written for b in branches) == 4
    assert [f for b in branches for f in b.failures] == [
        WriteFailure("d", "1-a", "forbidden", "no")]
