"""A peer's first `info()` asks for the database and for the server's root at once: a
first contact over a slow network costs one round trip, not two."""

from __future__ import annotations

import threading

import httpx
import pytest

from sync.errors import NotFound
from sync.peers.http import HttpPeer

DB_INFO = {"db_name": "dossiers", "update_seq": 7, "doc_count": 3}


def _server(seen: list[str], db_status: int = 200) -> httpx.MockTransport:
    """The first two requests are answered only once both have arrived: asked one after
    the other, the first would wait in vain and the barrier breaks."""
    first_two = threading.Barrier(2, timeout=5)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if len(seen) <= 2:
            first_two.wait()
        if request.url.path == "/":
            return httpx.Response(200, json={"couchdb": "Welcome", "version": "3.3.3"})
        if db_status != 200:
            return httpx.Response(db_status, json={"error": "not_found", "reason": "missing"})
        return httpx.Response(200, json=DB_INFO)

    return httpx.MockTransport(handle)


def test_database_and_root_are_asked_together() -> None:
    seen: list[str] = []
    peer = HttpPeer("http://couch.example/dossiers",
                    transport=_server(seen))
    info = peer.info()
    assert (info.db_name, info.update_seq, info.doc_count) == ("dossiers", 7, 3)
    assert info.multipart_writes  # the root said Apache CouchDB
    assert sorted(seen) == ["/", "/dossiers/"]


def test_the_root_is_asked_once_per_peer() -> None:
    seen: list[str] = []
    peer = HttpPeer("http://couch.example/dossiers",
                    transport=_server(seen))
    peer.info()
    peer.info()
    assert seen.count("/") == 1 and seen.count("/dossiers/") == 2


def test_a_missing_database_is_reported_as_before() -> None:
    seen: list[str] = []
    peer = HttpPeer("http://couch.example/dossiers",
                    transport=_server(seen, db_status=404))
    with pytest.raises(NotFound):
        peer.info()
    assert peer.is_couchdb()  # the root's answer is kept for after the database is made
    assert seen.count("/") == 1
