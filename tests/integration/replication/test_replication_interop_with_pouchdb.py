"""PouchDB (npm `pouchdb` 9.0.0) as the other replicator: what ours writes, PouchDB carries
on intact, and the reverse; after mixed rounds both stores hold identical trees."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess

import httpx
import pytest
from support.couch_trees import all_docs, bulk_write, history, local_trees, replicated_doc, trees
from support.pouchdb_server import JS_DIR

from sync.peers import HttpPeer, LocalPeer
from sync.replicator import ReplicationOptions, replicate, sync_both
from sync.store import Store

SCRIPT = JS_DIR / "pouch_replicate.js"


def pouch(mode: str, a: str, b: str, batch: int = 100, flag: str = "") -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the PouchDB interop tests need it")
    result = subprocess.run([node, str(SCRIPT), mode, a, b, str(batch), flag],
                            capture_output=True, text=True, timeout=300, cwd=JS_DIR)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _seed(url: str) -> None:
    base = history("c", 2)
    bulk_write(url, [
        replicated_doc("c", [*base, f"3-{'a' * 32}"], {"side": "a"}),
        replicated_doc("c", [*base, f"3-{'b' * 32}"], {"side": "b"}),
        replicated_doc("c", [*base, f"3-{'c' * 32}"], {}, deleted=True),
        replicated_doc("gone", history("gone", 3), {}, deleted=True),
        replicated_doc("att", history("att", 2), {"k": "ảnh"},
                       attachments={"p.jpg": os.urandom(150_000), "n.txt": b"note"}),
        *[replicated_doc(f"d{i}", history(f"d{i}", 1 + i % 3), {"i": i}) for i in range(40)],
    ])


def test_pouchdb_carries_on_what_we_wrote(new_db, pouchdb_server, tmp_path):
    origin = new_db("origin")
    _seed(origin)
    local = LocalPeer(tmp_path / "s" / "dev")
    assert replicate(HttpPeer(origin), local, ReplicationOptions(create_target=True)).ok
    ours = pouchdb_server.new_db_url("ours")
    assert replicate(local, HttpPeer(ours), ReplicationOptions(create_target=True)).ok
    theirs = new_db("theirs")
    result = pouch("replicate", ours, theirs)
    assert result["ok"] and result["doc_write_failures"] == 0
    assert trees(theirs) == trees(ours) == trees(origin)


def test_we_carry_on_what_pouchdb_wrote(new_db, tmp_path):
    origin, via_pouch = new_db("origin"), new_db("viapouch")
    _seed(origin)
    assert pouch("replicate", origin, via_pouch)["ok"]
    local = LocalPeer(tmp_path / "s" / "dev")
    assert replicate(HttpPeer(via_pouch), local, ReplicationOptions(create_target=True)).ok
    assert local_trees(Store(tmp_path / "s").open("dev")) == trees(origin)
    back = new_db("back")
    assert replicate(local, HttpPeer(back)).ok
    assert trees(back) == trees(origin)


def _edit(url: str, rng: random.Random, round_no: int) -> None:
    rows = all_docs(url)
    for doc_id, _ in rng.sample(rows, min(4, len(rows))):
        doc = httpx.get(f"{url}/{doc_id}").json()
        doc["round"] = round_no
        if rng.random() < 0.2:
            doc["_deleted"] = True
        assert httpx.put(f"{url}/{doc_id}", json=doc).status_code == 201
    new_id = f"n{round_no}-{rng.randint(0, 10**6)}"
    assert httpx.put(f"{url}/{new_id}", json={"round": round_no}).status_code == 201


def test_mixed_rounds_leave_identical_trees(new_db, tmp_path):
    a, b = new_db("a"), new_db("b")
    _seed(a)
    rng = random.Random(7)
    local = LocalPeer(tmp_path / "s" / "mixed")
    for round_no in range(6):
        _edit(a, rng, round_no)
        if all_docs(b):
            _edit(b, rng, round_no)
        if round_no % 2 == 0:
            push, pull = sync_both(HttpPeer(a), HttpPeer(b))
            assert push.ok and pull.ok
        else:
            result = pouch("replicate", a, b, 50, "sync")
            assert result["push"]["ok"] and result["pull"]["ok"]
        # the device joins in too, through ours
        replicate(HttpPeer(b), local, ReplicationOptions(create_target=True))
    # settle: one more round each way by each replicator, then compare everything
    sync_both(HttpPeer(a), HttpPeer(b))
    pouch("replicate", a, b, 50, "sync")
    assert trees(a) == trees(b)
    assert all_docs(a) == all_docs(b)
    replicate(HttpPeer(b), local)
    assert local_trees(Store(tmp_path / "s").open("mixed")) == trees(b)
