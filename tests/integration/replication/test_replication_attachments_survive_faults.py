"""Attachment bodies pulled from a JSON-only server (PouchDB Server) come in `_bulk_get`
answers (one raw GET each where that does not answer), through the HTTP peer's lean
client: cut and reset connections in the middle of those bodies are retried, interrupted
runs converge, and every attachment lands in the embedded store byte-identical. The lean
client sends the peer's credentials and reopens, at once, a kept-alive connection the
server closed while it sat idle."""

from __future__ import annotations

import base64
import hashlib
import json
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
from sync.protocol.model import BodiesWanted, Revision
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
    bulk_get = False

    def do_GET(self) -> None:
        if self.path == "/":  # the server root: not CouchDB, so attachments come raw
            self._answer(200, "application/json", b'{"express-pouchdb":"Welcome!"}')
            return
        type(self).seen.append((self.path, self.headers.get("Authorization")))
        if "missing" in self.path:
            self._answer(404, "application/json", b'{"error":"not_found","reason":"missing"}')
        else:
            self._answer(200, "image/jpeg", self.body)

    def do_POST(self) -> None:
        """`_bulk_get` answering every revision asked for except those named `gap…`, with
        three attachments inline (base64), when `bulk_get` is on; else unsupported."""
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if not type(self).bulk_get:
            self.send_error(501)
            return
        type(self).seen.append((f"POST {self.path}", self.headers.get("Authorization")))
        data = base64.b64encode(self.body).decode()
        results = [{"id": d["id"], "docs": [
            {"error": {"id": d["id"], "rev": d["rev"], "error": "not_found"}}
            if d["id"].startswith("gap") else
            {"ok": {"_id": d["id"], "_rev": d["rev"], "_attachments": {
                name: {"content_type": "image/jpeg", "data": data}
                for name in ("a.jpg", "b c.jpg", "d.jpg")}}}]}
            for d in request["docs"]]
        self._answer(200, "application/json", json.dumps({"results": results}).encode())

    def _answer(self, status: int, content_type: str, payload: bytes) -> None:
        """Answer, then drop the kept-alive connection without saying so."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def closing_server() -> Iterator[str]:
    _ClosingHandler.seen = []
    _ClosingHandler.bulk_get = False
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
        # No usable _bulk_get (HTTP 501): one raw GET per attachment.
        [full] = peer.fetch_attachments([BodiesWanted(
            _revision_with_stubs(["a.jpg", "b c.jpg", "d.jpg"]))], True)
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


def test_bulk_get_brings_the_bodies_and_raw_gets_fill_its_gaps(closing_server):
    _ClosingHandler.bulk_get = True
    peer = HttpPeer(f"{closing_server}/db", user="officer", password="mật khẩu",
                    backoff=Backoff(retries=0))
    whole = _revision_with_stubs(["a.jpg", "b c.jpg", "d.jpg"])
    kept = Revision({**whole.doc, "_id": "doc/2", "_rev": "2-def"})  # a.jpg is not new
    gap = _revision_with_stubs(["a.jpg"], "gap/3")
    try:
        got = peer.fetch_attachments([BodiesWanted(whole), BodiesWanted(kept, ("1-abc",)),
                                      BodiesWanted(gap)], True)
    finally:
        peer.close()
    assert [r.id for r in got if isinstance(r, Revision)] == ["doc/1", "doc/2", "gap/3"]
    assert sorted(got[0].blobs) == ["a.jpg", "b c.jpg", "d.jpg"]
    assert got[0].blobs["b c.jpg"] == _ClosingHandler.body
    assert got[1].blobs == {} and got[1].attachments()["a.jpg"]["stub"]  # revpos 1: held
    assert got[2].blobs == {"a.jpg": _ClosingHandler.body}
    expected = "Basic " + base64.b64encode("officer:mật khẩu".encode()).decode()
    assert _ClosingHandler.seen == [
        ("POST /db/_bulk_get?revs=false&attachments=true", expected),
        ("/db/gap%2F3/a.jpg?rev=1-abc", expected),  # the one _bulk_get did not answer
    ]


def test_raw_get_answers_errors_by_kind(closing_server):
    peer = HttpPeer(f"{closing_server}/db", bearer="t0ken", backoff=Backoff(retries=0))
    try:
        with pytest.raises(NotFound) as caught:
            peer.fetch_attachments(
                [BodiesWanted(_revision_with_stubs(["a.jpg"], "missing-doc"))], True)
    finally:
        peer.close()
    assert "t0ken" not in str(caught.value)
    assert _ClosingHandler.seen[0][1] == "Bearer t0ken"


def test_raw_getter_gives_up_on_a_dead_server():
    getter = RawGetter("http://127.0.0.1:9/db/", {}, None, timeout=2)
    with pytest.raises(RawNetworkError, match="ConnectionRefusedError"):
        getter.get("x")
