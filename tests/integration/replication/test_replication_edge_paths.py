"""The paths a plain run does not take: 413 halving, no `_bulk_get`, continuous feeds,
selectors applied by the embedded store, target-only checkpoints."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from support.couch_trees import all_docs, bulk_write, history, local_trees, replicated_doc, trees
from support.pouchdb_server import start_pouchdb_server, stop_pouchdb_server

from sync.peers import HttpPeer, LocalPeer
from sync.peers import http as http_peer
from sync.replicator import Progress, ReplicationOptions, replicate
from sync.store import Store


@pytest.fixture(scope="module")
def small_limit_server():
    server = start_pouchdb_server(private=True)
    response = httpx.put(f"{server.url}/_config/couchdb/max_document_size", json="30000")
    assert response.status_code == 200, response.text
    yield server
    stop_pouchdb_server(server)


def test_413_halves_batches_and_reports_what_never_fits(new_db, small_limit_server):
    source = new_db("src")
    docs = [replicated_doc(f"d{i:03}", history(f"d{i}", 2), {"pad": "z" * 1000})
            for i in range(150)]
    docs.append(replicated_doc("huge", history("huge", 1), {"pad": "h" * 60_000}))
    bulk_write(source, docs)
    target = small_limit_server.create_db("small")
    summary = replicate(HttpPeer(source), HttpPeer(target), ReplicationOptions(batch_size=100))
    assert summary.docs_written == 150
    assert [(f.id, f.error) for f in summary.failures] == [("huge", "too_large")]
    assert len(all_docs(target)) == 150


def test_without_bulk_get_uses_open_revs(new_db):
    source, target = new_db("src"), new_db("dst")
    base = history("c", 1)
    bulk_write(source, [
        replicated_doc("c", [*base, f"2-{'a' * 32}"], {"x": 1}),
        replicated_doc("c", [*base, f"2-{'b' * 32}"], {"x": 2}),
        replicated_doc("att", history("att", 1), {}, attachments={"a": b"abc" * 1000}),
        *[replicated_doc(f"d{i}", history(f"d{i}", 2), {"i": i}) for i in range(20)],
    ])
    seen: list[str] = []

    class Recording(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(request.url.path)
            return super().handle_request(request)

    summary = replicate(HttpPeer(source, transport=Recording()), HttpPeer(target),
                        ReplicationOptions(use_bulk_get=False))
    assert summary.docs_written == 23
    assert not [p for p in seen if p.endswith("_bulk_get")]
    assert trees(target) == trees(source)


def _wait_for(check, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def test_continuous_http_to_store_follows_new_writes(new_db, tmp_path):
    source = new_db("src")
    bulk_write(source, [replicated_doc("first", history("first", 1), {})])
    store = Store(tmp_path / "s")
    local = LocalPeer(tmp_path / "s" / "dev")
    stop = threading.Event()
    events: list[Progress] = []
    result = {}

    def run():
        result["summary"] = replicate(
            HttpPeer(source), local,
            ReplicationOptions(continuous=True, create_target=True, poll_timeout=1.0),
            on_progress=events.append, stop=stop)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        _wait_for(lambda: store.exists("dev") and
                  store.open("dev").info()["doc_count"] == 1)
        for i in range(3):
            assert httpx.put(f"{source}/later{i}", json={"i": i}).status_code == 201
        _wait_for(lambda: store.open("dev").info()["doc_count"] == 4)
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
    assert result["summary"].docs_written == 4
    assert {"started", "idle", "batch", "checkpoint", "finished"} <= {e.kind for e in events}
    assert local_trees(store.open("dev")) == trees(source)


def test_continuous_store_to_http_and_selector_in_store(new_db, tmp_path):
    store = Store(tmp_path / "s")
    db = store.create("dev")
    target = new_db("dst")
    stop = threading.Event()
    thread = threading.Thread(target=replicate, args=(LocalPeer.of(db, "dev"), HttpPeer(target)),
                              kwargs={"options": ReplicationOptions(
                                  continuous=True, poll_timeout=1.0,
                                  selector={"type": "visit"}), "stop": stop})
    thread.start()
    try:
        db.put({"_id": "v1", "type": "visit"})
        db.put({"_id": "n1", "type": "note"})
        _wait_for(lambda: [d for d, _ in all_docs(target)] == ["v1"])
        db.put({"_id": "v2", "type": "visit"})
        _wait_for(lambda: [d for d, _ in all_docs(target)] == ["v1", "v2"])
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()


def test_long_poll_lives_on_heartbeats_and_ends_on_time(new_db, tmp_path, monkeypatch):
    # A short heartbeat: the read timeout (2 × heartbeat + 5 s) is 6 s, so a poll that
    # outlives it shows the heartbeats arrived (uncompressed: gzip would hold them back).
    monkeypatch.setattr(http_peer, "HEARTBEAT", 0.5)
    source = new_db("src")
    bulk_write(source, [replicated_doc("first", history("first", 1), {})])
    polls: list[httpx.URL] = []

    class Recording(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.params.get("feed") == "longpoll":
                polls.append(request.url)
            return super().handle_request(request)

    store = Store(tmp_path / "s")
    stop = threading.Event()
    events: list[Progress] = []
    thread = threading.Thread(target=replicate, args=(
        HttpPeer(source, transport=Recording()), LocalPeer(tmp_path / "s" / "dev")),
        kwargs={"options": ReplicationOptions(continuous=True, create_target=True),
                "on_progress": events.append, "stop": stop})
    thread.start()
    try:
        _wait_for(lambda: any(e.kind == "idle" for e in events))
        time.sleep(7.0)
        assert len(polls) == 1, polls  # one poll held the whole idle time
        assert httpx.put(f"{source}/later", json={}).status_code == 201
        _wait_for(lambda: store.open("dev").info()["doc_count"] == 2)
        assert polls[0].params["heartbeat"] == "500"
        assert polls[0].params["timeout"] == "60000"
        _wait_for(lambda: len(polls) == 2)  # idle again: the next poll is open
        stopping = time.monotonic()
        stop.set()
        thread.join(30)
        assert time.monotonic() - stopping < 3.0  # not the rest of a 60 s poll
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
    # However the server treats `timeout` (PouchDB Server ignores it; CouchDB lets the
    # heartbeat override it), a poll ends by `timeout` + one heartbeat, with no rows.
    peer = HttpPeer(source)
    now = peer.changes(0, limit=None).last_seq
    began = time.monotonic()
    page = peer.changes(now, limit=None, feed="longpoll", timeout=1.0)
    assert page.changes == () and page.last_seq == now
    assert time.monotonic() - began < 3.0


class _SlowFeed(BaseHTTPRequestHandler):
    """A `_changes` long-poll over a bad link: since=1 answers slowly, in pieces, well past
    the poll's time; since=2 sends only heartbeats, for ever."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()
        query = parse_qs(urlsplit(self.path).query)
        answer = b'{"results":[{"seq":7,"id":"a","changes":[{"rev":"1-x"}]}],"last_seq":7}'
        pieces = [b"\n"] * 50 if query["since"] == ["2"] else [
            b"\n", *(answer[i:i + 10] for i in range(0, len(answer), 10))]
        try:
            for piece in pieces:
                time.sleep(0.1)
                self.wfile.write(piece)
                self.wfile.flush()
        except OSError:
            pass  # the client hung up: what the heartbeat-only poll expects

    def log_message(self, *args: object) -> None:
        pass


def test_long_poll_reads_a_slow_answer_to_its_end_but_not_heartbeats(monkeypatch):
    monkeypatch.setattr(http_peer, "HEARTBEAT", 0.2)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowFeed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        peer = HttpPeer(f"http://127.0.0.1:{server.server_address[1]}/db")
        began = time.monotonic()
        page = peer.changes(1, limit=None, feed="longpoll", timeout=0.3)
        assert time.monotonic() - began > 0.8  # past timeout + heartbeat: read to its end
        assert [(c.id, c.revs) for c in page.changes] == [("a", ("1-x",))]
        assert page.last_seq == 7
        began = time.monotonic()
        page = peer.changes(2, limit=None, feed="longpoll", timeout=0.3)
        assert page.changes == () and page.last_seq == 2
        assert time.monotonic() - began < 2.0  # not the 5 s of heartbeats
    finally:
        server.shutdown()
        server.server_close()


def test_continuous_store_source_stops_within_seconds(tmp_path, new_db):
    db = Store(tmp_path / "s").create("dev")
    stop = threading.Event()
    events: list[Progress] = []
    thread = threading.Thread(target=replicate, args=(LocalPeer.of(db, "dev"),
                                                      HttpPeer(new_db("dst"))),
                              kwargs={"options": ReplicationOptions(continuous=True),
                                      "on_progress": events.append, "stop": stop})
    thread.start()
    _wait_for(lambda: any(e.kind == "idle" for e in events))
    time.sleep(0.5)
    stopping = time.monotonic()
    stop.set()
    thread.join(30)
    assert not thread.is_alive()
    assert time.monotonic() - stopping < 3.0  # a slice of the poll, not the whole 60 s


def test_checkpoint_target_only_leaves_source_untouched(new_db):
    source, target = new_db("src"), new_db("dst")
    bulk_write(source, [replicated_doc(f"d{i}", history(f"d{i}", 1), {}) for i in range(5)])
    options = ReplicationOptions(checkpoint_target_only=True)
    first = replicate(HttpPeer(source), HttpPeer(target), options)
    log_id = f"_local/{first.replication_id}"
    assert httpx.get(f"{source}/{log_id}").status_code == 404
    assert httpx.get(f"{target}/{log_id}").json()["source_last_seq"] == first.recorded_seq
    bulk_write(source, [replicated_doc("more", history("more", 1), {})])
    second = replicate(HttpPeer(source), HttpPeer(target), options)
    assert second.start_seq == first.recorded_seq and second.docs_written == 1
