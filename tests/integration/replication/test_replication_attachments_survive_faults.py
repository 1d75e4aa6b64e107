"""Attachment bodies pulled from a JSON-only server (PouchDB Server) come one raw GET each,
through the HTTP peer's lean client: cut and reset connections in the middle of those
bodies are retried, interrupted runs converge, and every attachment lands in the embedded
store byte-identical. The lean client sends the peer's credentials and reopens, at once, a
kept-alive connection the server closed while it sat idle."""

from __future__ import annotations

import base64
import hashlib
import os
import random
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from support.couch_trees import bulk_write, history, replicated_doc
from support.fault_proxy import FaultProxy

from sync.errors import DocumentError, NotFound, PeerUnavailable
from sync.peers import Backoff, HttpPeer, LocalPeer, set_testing
from sync.peers.rawhttp import RawGetter, RawNetworkError
from sync.protocol.model import Revision
from sync.replicator import ReplicationOptions, replicate


@pytest.fixture(autouse=True)
def _no_backoff() -> Iterator[None]:
    set_testing(True)
    yield
    set_testing(False)


def _md5(data: bytes) -> str:
    return "md5-" + base64.b64encode(hashlib.md5(data).digest()).decode()


def _seed(url: str, rng: random.Random, round_no: int) -> dict[str, dict[str, bytes]]:
    """Three docs with two or three attachments of 40–160 KB; one is a second generation
    that keeps an attachment of the first (so `atts_since` and stubs are in play)."""
    bodies: dict[str, dict[str, bytes]] = {}
    docs = []
    for i in range(3):
        doc_id = f"photos-{round_no:02}-{i}"
        atts = {f"p{k}.jpg": rng.randbytes(rng.randint(40_000, 160_000))
                for k in range(rng.choice([2, 3]))}
        docs.append(replicated_doc(doc_id, history(doc_id, 1 + (i == 0)), {"n": i},
                                   attachments=atts))
        bodies[doc_id] = atts
    bulk_write(url, docs)
    return bodies


def _assert_stored(local: LocalPeer, bodies: dict[str, dict[str, bytes]]) -> None:
    for doc_id, atts in bodies.items():
        doc = local.db.get(doc_id)
        assert set(doc["_attachments"]) == set(atts)
        for name, data in atts.items():
            stored = local.db.attachment(doc_id, name)
            assert stored.digest == _md5(data)
            assert stored.read() == data


def test_attachment_bodies_cut_midway_converge_byte_identical(new_db, pouchdb_server, tmp_path):
    source = new_db("atts")
    rng = random.Random(7)
    bodies: dict[str, dict[str, bytes]] = {}
    parts = urlsplit(pouchdb_server.url)
    proxy = FaultProxy((parts.hostname, parts.port), seed=42)
    via = proxy.url + urlsplit(source).path
    local = LocalPeer(tmp_path / "device")
    interrupted = rounds = 0
    try:
        # Whether a run gives up depends on where cuts land among concurrent requests
        # (measured: 2 to 8 of 12 runs): go on past 12 rounds until 3 runs were cut short.
        for round_no in range(40):
            if round_no >= 12 and interrupted >= 3:
                break
            rounds += 1
            bodies |= _seed(source, rng, round_no)
            # Cuts land inside attachment bodies (each 40–160 KB), not only in JSON answers.
            proxy.faults.cut_after = (5_000, 400_000)
            proxy.faults.reset_probability = rng.choice([0.0, 0.01, 0.05])
            remote = HttpPeer(via, backoff=Backoff(retries=1), timeout=5)
            try:
                replicate(remote, local, ReplicationOptions(batch_size=rng.choice([1, 2, 50]),
                                                            create_target=True))
            except (PeerUnavailable, DocumentError):
                interrupted += 1
            finally:
                remote.close()
        assert interrupted >= 3, f"only {interrupted} of {rounds} runs were interrupted"
        assert proxy.cuts > interrupted  # most cuts were retried within a run
        proxy.faults = type(proxy.faults)()
        final = replicate(HttpPeer(via), local, ReplicationOptions(create_target=True))
        assert final.ok
        _assert_stored(local, bodies)
    finally:
        proxy.close()
        local.close()


class _ClosingHandler(BaseHTTPRequestHandler):
    """Answers keep-alive GETs, then drops the connection without saying so (as a server
    whose idle timeout fired would); records what each request carried."""

    protocol_version = "HTTP/1.1"
    body = os.urandom(70_000)
    seen: list[tuple[str, str | None]] = []  # noqa: RUF012 (one test server per test)

    def do_GET(self) -> None:
        if self.path == "/":  # the server root: not CouchDB, so attachments come raw
            payload = b'{"express-pouchdb":"Welcome!"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
        elif "missing" in self.path:
            type(self).seen.append((self.path, self.headers.get("Authorization")))
            payload = b'{"error":"not_found","reason":"missing"}'
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
        else:
            type(self).seen.append((self.path, self.headers.get("Authorization")))
            payload = self.body
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def closing_server() -> Iterator[str]:
    _ClosingHandler.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ClosingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _revision_with_stubs(names: list[str], doc_id: str = "doc/1") -> Revision:
    atts = {n: {"stub": True, "revpos": 1, "length": 70_000, "digest": "md5-x",
                "content_type": "image/jpeg"} for n in names}
    return Revision({"_id": doc_id, "_rev": "1-abc", "_attachments": atts})


def test_raw_gets_send_credentials_and_reopen_closed_connections(closing_server):
    # Backoff with no retries: a reopened connection must not count as a failed attempt.
    peer = HttpPeer(f"{closing_server}/db", user="officer", password="mật khẩu",
                    backoff=Backoff(retries=0))
    try:
        [full] = peer.fetch_attachments(_revision_with_stubs(["a.jpg", "b c.jpg", "d.jpg"]), ())
    finally:
        peer.close()
    assert isinstance(full, Revision)
    assert {name: len(body) for name, body in full.blobs.items()} == {
        "a.jpg": 70_000, "b c.jpg": 70_000, "d.jpg": 70_000}
    assert all(att["follows"] for att in full.attachments().values())
    expected = "Basic " + base64.b64encode("officer:mật khẩu".encode()).decode()
    assert _ClosingHandler.seen == [
        ("/db/doc%2F1/a.jpg?rev=1-abc", expected),
        ("/db/doc%2F1/b%20c.jpg?rev=1-abc", expected),
        ("/db/doc%2F1/d.jpg?rev=1-abc", expected),
    ]


def test_raw_get_answers_errors_by_kind(closing_server):
    peer = HttpPeer(f"{closing_server}/db", bearer="t0ken", backoff=Backoff(retries=0))
    try:
        with pytest.raises(NotFound) as caught:
            peer.fetch_attachments(_revision_with_stubs(["a.jpg"], "missing-doc"), ())
    finally:
        peer.close()
    assert "t0ken" not in str(caught.value)
    assert _ClosingHandler.seen[0][1] == "Bearer t0ken"


def test_raw_getter_gives_up_on_a_dead_server():
    getter = RawGetter("http://127.0.0.1:9/db/", {}, None, timeout=2)
    with pytest.raises(RawNetworkError, match="ConnectionRefusedError"):
        getter.get("x")
