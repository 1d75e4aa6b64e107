"""Faults between the replicator and its peers: connections cut after N bytes, delayed,
reset at random. Interrupted rounds converge with nothing lost or duplicated; a resumed
replication re-sends fewer documents than a fresh one."""

from __future__ import annotations

import random
from urllib.parse import urlsplit

import httpx
import pytest
from support.couch_trees import bulk_write, history, leaf_revs, replicated_doc, trees
from support.fault_proxy import FaultProxy

from sync.errors import DocumentError, PeerUnavailable
from sync.peers import Backoff, HttpPeer, set_testing
from sync.replicator import ReplicationOptions, replicate


@pytest.fixture(autouse=True)
def _no_backoff():
    set_testing(True)
    yield
    set_testing(False)


@pytest.fixture
def proxy(pouchdb_server):
    parts = urlsplit(pouchdb_server.url)
    proxy = FaultProxy((parts.hostname, parts.port), seed=1234)
    yield proxy
    proxy.close()


def _via(proxy: FaultProxy, url: str) -> str:
    return proxy.url + urlsplit(url).path


def _write_round(url: str, rng: random.Random, round_no: int) -> None:
    docs = []
    for i in range(8):
        doc_id = f"r{round_no:03}-{i}"
        docs.append(replicated_doc(doc_id, history(doc_id, rng.randint(1, 3)),
                                   {"round": round_no, "pad": "x" * rng.randint(10, 2000)}))
    # a conflict and a deletion on an older document
    old = f"r{max(round_no - 3, 0):03}-0"
    docs.append(replicated_doc(old, [*history(old, 1), f"2-{round_no:032x}"], {"edit": round_no}))
    gone = f"r{max(round_no - 2, 0):03}-1"
    docs.append(replicated_doc(gone, [*history(gone, 1), f"2-{round_no + 7:032x}"], {},
                               deleted=True))
    bulk_write(url, docs)


@pytest.mark.slow
def test_hundred_interrupted_rounds_converge(new_db, proxy, pouchdb_server):
    source, target = new_db("src"), new_db("dst")
    rng = random.Random(99)
    interrupted = 0
    for round_no in range(100):
        _write_round(source, rng, round_no)
        proxy.faults.cut_after = (rng.randint(200, 3000), rng.randint(3000, 60000))
        proxy.faults.reset_probability = rng.choice([0.0, 0.02, 0.1])
        proxy.faults.delay = rng.choice([0.0, 0.0, 0.002])
        src, dst = HttpPeer(_via(proxy, source), backoff=Backoff(retries=2), timeout=5), HttpPeer(
            _via(proxy, target), backoff=Backoff(retries=2), timeout=5)
        try:
            replicate(src, dst, ReplicationOptions(batch_size=rng.choice([3, 10, 40]),
                                                   workers=rng.choice([1, 2, 4])))
        except (PeerUnavailable, DocumentError):
            interrupted += 1
        finally:
            src.close()
            dst.close()
        assert pouchdb_server.alive()
    assert interrupted >= 20, f"only {interrupted} of 100 rounds were interrupted"
    proxy.faults = type(proxy.faults)()
    final = replicate(HttpPeer(_via(proxy, source)), HttpPeer(_via(proxy, target)))
    assert final.ok
    assert final.start_seq != 0  # resumed from the rounds' checkpoints
    assert trees(target) == trees(source)  # same leaves, same histories: nothing lost
    total = httpx.get(f"{target}/_changes", params={"style": "all_docs"}).json()["results"]
    assert len({row["id"] for row in total}) == len(total)  # one row per doc: no duplicates


def test_resumed_replication_resends_less_than_fresh(new_db, proxy, pouchdb_server):
    source = new_db("src")
    bulk_write(source, [replicated_doc(f"d{i:04}", history(f"d{i}", 1), {"pad": "y" * 500})
                        for i in range(2000)])
    fresh_target = new_db("fresh")
    fresh = replicate(HttpPeer(source), HttpPeer(fresh_target), ReplicationOptions(batch_size=100))
    assert fresh.docs_written == 2000

    target = new_db("dst")
    proxy.faults.budget = 600_000  # ≈ 40% of the traffic, then every connection is reset
    cut = HttpPeer(_via(proxy, target), backoff=Backoff(retries=2), timeout=5)
    with pytest.raises(PeerUnavailable):
        replicate(HttpPeer(source), cut,
                  ReplicationOptions(batch_size=100, workers=2, checkpoint_interval=0))
    written_before = len(httpx.get(f"{target}/_all_docs").json()["rows"])
    assert 0 < written_before < 2000

    proxy.faults = type(proxy.faults)()  # the network is back; same URL, same replication
    resumed = replicate(HttpPeer(source), HttpPeer(_via(proxy, target)),
                        ReplicationOptions(batch_size=100))
    assert resumed.start_seq != 0
    assert resumed.docs_written < fresh.docs_written
    assert resumed.docs_written + written_before == 2000  # nothing re-sent that had landed...
    assert resumed.missing_checked < 2000  # ...and the feed resumed past the checkpoint
    assert leaf_revs(target) == leaf_revs(source)
