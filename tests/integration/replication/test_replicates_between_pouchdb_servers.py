"""HTTP ↔ HTTP replication between two databases on PouchDB Server: pull, push, two-way;
conflicts, deletions and attachments arrive intact; `_local` documents stay behind."""

from __future__ import annotations

import httpx
from support.couch_trees import all_docs, bulk_write, history, replicated_doc, trees

from sync.peers import HttpPeer
from sync.replicator import ReplicationOptions, replicate, sync_both


def _seed_conflicts(url: str) -> None:
    base = history("c", 2)
    bulk_write(url, [
        replicated_doc("c", [*base, f"3-{'a' * 32}"], {"side": "a"}),
        replicated_doc("c", [*base, f"3-{'b' * 32}"], {"side": "b"}),
        replicated_doc("c", [*base, f"3-{'c' * 32}"], {}, deleted=True),
        replicated_doc("gone", history("gone", 4), {}, deleted=True),
        replicated_doc("plain", history("plain", 1), {"n": 1}),
        replicated_doc("with-att", history("with-att", 2), {"n": 2},
                       attachments={"a.bin": bytes(range(256)) * 40, "b.txt": b"hello"}),
    ])
    response = httpx.put(f"{url}/_local/keep-here", json={"x": 1})
    assert response.status_code == 201


def test_pull_copies_conflicts_deletions_attachments(new_db):
    source, target = new_db("src"), new_db("dst")
    _seed_conflicts(source)
    summary = replicate(HttpPeer(source), HttpPeer(target))
    assert summary.ok, summary.failures
    assert trees(target) == trees(source)
    assert set(trees(target)) == {"c", "gone", "plain", "with-att"}
    assert httpx.get(f"{target}/_local/keep-here").status_code == 404
    assert summary.docs_written == 6  # three leaves of c, gone, plain, with-att


def test_second_run_sends_nothing(new_db):
    source, target = new_db("src"), new_db("dst")
    _seed_conflicts(source)
    first = replicate(HttpPeer(source), HttpPeer(target))
    second = replicate(HttpPeer(source), HttpPeer(target))
    assert first.docs_written == 6
    assert second.docs_written == 0 and second.missing_checked == 0
    assert second.start_seq == first.recorded_seq


def test_two_way_sync_merges_both_sides(new_db):
    a, b = new_db("a"), new_db("b")
    bulk_write(a, [replicated_doc(f"a{i}", history(f"a{i}", 1), {"i": i}) for i in range(30)])
    bulk_write(b, [replicated_doc(f"b{i}", history(f"b{i}", 2), {"i": i}) for i in range(30)])
    shared = history("s", 1)
    bulk_write(a, [replicated_doc("s", [*shared, f"2-{'1' * 32}"], {"from": "a"})])
    bulk_write(b, [replicated_doc("s", [*shared, f"2-{'2' * 32}"], {"from": "b"})])
    push, pull = sync_both(HttpPeer(a), HttpPeer(b))
    assert push.ok and pull.ok
    assert trees(a) == trees(b)
    assert len(trees(a)["s"]) == 2
    assert len(all_docs(a)) == 61


def test_create_target_and_small_batches(pouchdb_server, new_db):
    source = new_db("src")
    bulk_write(source, [replicated_doc(f"d{i:03}", history(f"d{i}", 1), {"i": i})
                        for i in range(120)])
    target = pouchdb_server.new_db_url("created")
    summary = replicate(HttpPeer(source), HttpPeer(target),
                        ReplicationOptions(create_target=True, batch_size=7))
    assert summary.docs_written == 120
    assert trees(target) == trees(source)


def test_doc_ids_filter(new_db):
    source, target = new_db("src"), new_db("dst")
    bulk_write(source, [replicated_doc(f"d{i}", history(f"d{i}", 1), {"i": i})
                        for i in range(20)])
    summary = replicate(HttpPeer(source), HttpPeer(target),
                        ReplicationOptions(doc_ids=("d3", "d7", "nope")))
    assert summary.docs_written == 2
    assert [doc_id for doc_id, _ in all_docs(target)] == ["d3", "d7"]


def test_selector_filter_applied_locally_against_pouchdb_server(pouchdb_server, new_db):
    source, target = new_db("src"), new_db("dst")
    bulk_write(source, [replicated_doc(f"d{i:02}", history(f"d{i}", 1),
                                       {"type": "visit" if i % 3 == 0 else "note", "i": i})
                        for i in range(30)])
    summary = replicate(HttpPeer(source), HttpPeer(target),
                        ReplicationOptions(selector={"type": "visit", "i": {"$gte": 10}},
                                           batch_size=4))
    assert summary.ok
    assert [d for d, _ in all_docs(target)] == [f"d{i:02}" for i in range(12, 30, 3)]
    assert pouchdb_server.alive()
