"""Embedded store ↔ PouchDB Server, and store ↔ store: pull, push and two-way sync keep
every branch, deletion and attachment; a second run sends nothing."""

from __future__ import annotations

import os

import httpx
import pytest
from support.couch_trees import bulk_write, history, leaf_revs, local_trees, replicated_doc, trees

from sync.peers import HttpPeer, LocalPeer
from sync.replicator import ReplicationOptions, replicate, sync_both
from sync.store import Store

BIG = 20 * 1024 * 1024


def _seed(url: str, big: bool = False) -> None:
    base = history("c", 2)
    atts = {"photo.jpg": os.urandom(BIG if big else 300_000), "note.txt": "Xin chào".encode()}
    bulk_write(url, [
        replicated_doc("c", [*base, f"3-{'a' * 32}"], {"side": "a"}),
        replicated_doc("c", [*base, f"3-{'b' * 32}"], {"side": "b"}),
        replicated_doc("c", [*base, f"3-{'c' * 32}"], {}, deleted=True),
        replicated_doc("gone", history("gone", 4), {}, deleted=True),
        replicated_doc("plain", history("plain", 1), {"tên": "Nguyễn Văn A"}),
    ])
    # attachments go through PUT (multipart) so the 20 MB case is not one huge JSON body
    for doc in [replicated_doc("with-att", history("with-att", 2), {"n": 2}, attachments=atts)]:
        response = httpx.put(f"{url}/with-att", params={"new_edits": "false"}, json=doc,
                             timeout=120)
        assert response.status_code == 201, response.text
    assert httpx.put(f"{url}/_local/stays", json={"x": 1}).status_code == 201


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "store")


def test_pull_into_store_then_push_to_new_server_db(new_db, pouchdb_server, store, tmp_path):
    source = new_db("src")
    _seed(source)
    local = LocalPeer(tmp_path / "store" / "officer")
    pulled = replicate(HttpPeer(source), local, ReplicationOptions(create_target=True))
    assert pulled.ok, pulled.failures
    db = store.open("officer")
    assert local_trees(db) == trees(source)
    with pytest.raises(Exception, match="missing"):
        db.get_local("_local/stays")

    target = pouchdb_server.new_db_url("back")
    pushed = replicate(local, HttpPeer(target), ReplicationOptions(create_target=True))
    assert pushed.ok, pushed.failures
    assert trees(target) == trees(source)
    assert pushed.docs_written == 6

    again = replicate(HttpPeer(source), local)
    assert again.docs_written == 0 and again.start_seq == pulled.recorded_seq


def test_twenty_megabyte_attachment_both_ways(new_db, pouchdb_server, tmp_path):
    source = new_db("big")
    _seed(source, big=True)
    local = LocalPeer(tmp_path / "store" / "big")
    assert replicate(HttpPeer(source), local, ReplicationOptions(create_target=True)).ok
    target = pouchdb_server.new_db_url("bigback")
    assert replicate(local, HttpPeer(target), ReplicationOptions(create_target=True)).ok
    assert trees(target) == trees(source)
    length = trees(target)["with-att"][0]["_attachments"]["photo.jpg"][1]
    assert length == BIG


def test_unchanged_attachments_travel_as_stubs(new_db, tmp_path):
    source = new_db("src")
    _seed(source)
    local = LocalPeer(tmp_path / "store" / "stubs")
    replicate(HttpPeer(source), local, ReplicationOptions(create_target=True))
    # a new revision on top that leaves the photo alone
    current = httpx.get(f"{source}/with-att").json()
    current["n"] = 3
    response = httpx.put(f"{source}/with-att", json=current)
    assert response.status_code == 201

    seen: list[str] = []

    class Recording(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(f"{request.method} {request.url.path}")
            return super().handle_request(request)

    peer = HttpPeer(source, transport=Recording())
    summary = replicate(peer, local)
    assert summary.docs_written == 1
    db = Store(tmp_path / "store").open("stubs")
    assert local_trees(db) == trees(source)
    # the photo (300 kB) did not travel again: no per-document fetch with bodies was needed
    assert any(s.endswith("/_bulk_get") for s in seen)
    assert not [s for s in seen if s.endswith("/with-att")], seen


def test_store_to_store_two_way(tmp_path):
    store = Store(tmp_path / "s")
    a, b = store.create("a"), store.create("b")
    for i in range(50):
        a.put({"_id": f"a{i}", "i": i})
        b.put({"_id": f"b{i}", "i": i})
    a.put({"_id": "shared", "v": "a"})
    b.put({"_id": "shared", "v": "b"})
    rev = a.put({"_id": "del", "v": 1})["rev"]
    a.delete("del", rev)
    att_doc = a.put({"_id": "att", "_attachments": {"x.bin": {
        "content_type": "application/octet-stream", "data": "AAECAwQ="}}})
    assert att_doc["ok"]
    push, pull = sync_both(LocalPeer.of(a, "a"), LocalPeer.of(b, "b"))
    assert push.ok and pull.ok
    assert local_trees(a) == local_trees(b)
    assert len(local_trees(a)["shared"]) == 2
    assert local_trees(b)["del"][0]["_deleted"] is True


@pytest.mark.slow
def test_ten_thousand_small_documents_round_trip(new_db, pouchdb_server, tmp_path):
    source = new_db("many")
    for start in range(0, 10_000, 1000):
        bulk_write(source, [replicated_doc(f"d{i:05}", history(f"d{i}", 1 + i % 2),
                                           {"i": i, "pad": "p" * 200})
                            for i in range(start, start + 1000)])
    local = LocalPeer(tmp_path / "store" / "many")
    pulled = replicate(HttpPeer(source), local, ReplicationOptions(create_target=True))
    assert pulled.ok and pulled.docs_written == 10_000
    target = pouchdb_server.new_db_url("manyback")
    pushed = replicate(local, HttpPeer(target), ReplicationOptions(create_target=True))
    assert pushed.ok and pushed.docs_written == 10_000
    assert leaf_revs(target) == leaf_revs(source)
    assert replicate(HttpPeer(source), local).docs_written == 0


@pytest.mark.parametrize("multipart", [True, False])
def test_attachment_writes_multipart_and_inline(new_db, tmp_path, multipart):
    source = new_db("src")
    _seed(source)
    local = LocalPeer(tmp_path / "store" / "m")
    assert replicate(HttpPeer(source), local, ReplicationOptions(create_target=True)).ok
    target = new_db("dst")
    seen: list[str] = []

    class Recording(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(f"{request.method} {request.headers.get('content-type', '')}")
            return super().handle_request(request)

    peer = HttpPeer(target, multipart_writes=multipart, transport=Recording())
    assert replicate(local, peer).ok
    assert trees(target) == trees(source)
    puts = [s for s in seen if s.startswith("PUT multipart/related")]
    assert len(puts) == (1 if multipart else 0)
