"""`doorstep replicate`: summary line and exit codes, clear errors, no credentials shown."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from support.couch_trees import all_docs, bulk_write, history, replicated_doc, trees
from support.pouchdb_server import start_pouchdb_server, stop_pouchdb_server

from doorstep.cli import main
from sync.peers import set_testing
from sync.store import Store


@pytest.fixture(autouse=True)
def _no_backoff():
    set_testing(True)
    yield
    set_testing(False)


def _seed(url: str, n: int = 25) -> None:
    bulk_write(url, [replicated_doc(f"d{i:02}", history(f"d{i}", 1),
                                    {"type": "visit" if i % 2 else "note"}) for i in range(n)])


def invoke(*args: str):
    return CliRunner().invoke(main, ["replicate", *args], catch_exceptions=False)


def test_pull_into_local_path_and_back(new_db, pouchdb_server, tmp_path):
    source = new_db("src")
    _seed(source)
    local = str(tmp_path / "device" / "officer")
    result = invoke(source, local, "--create-target", "--batch-size", "10")
    assert result.exit_code == 0, result.output
    assert "đã đọc 25 tài liệu, đã ghi 25, lỗi 0" in result.output
    target = pouchdb_server.new_db_url("back")
    result = invoke(local, target, "--create-target", "--selector", '{"type": "visit"}')
    assert result.exit_code == 0, result.output
    assert len(all_docs(target)) == 12
    result = invoke(source, target, "--doc-ids", "d00,d02", "--checkpoint-target-only")
    assert result.exit_code == 0, result.output
    assert len(all_docs(target)) == 14


def test_bad_input_is_a_message_not_a_traceback(new_db, tmp_path, monkeypatch):
    source = new_db("src")
    monkeypatch.chdir(tmp_path)
    cases = [
        ([source, str(tmp_path / "x"), "--selector", "{type:"], "không phải JSON hợp lệ"),
        ([source, str(tmp_path / "x"), "--selector", "[1]"], "đối tượng JSON"),
        ([source, str(tmp_path / "x"), "--selector", '{"a": {"$near": 1}}'], "$near"),
        ([source, str(tmp_path / "x"), "--doc-ids", "a", "--selector", "{}"], "cannot be combined"),
        (["ftp://host/db", str(tmp_path / "x")], "unsupported scheme 'ftp'"),
        ([source, str(tmp_path / "Bad Name")], "illegal database name"),
        ([source, str(tmp_path / "missing")], "does not exist"),
        ([str(tmp_path / "nowhere" / "db"), source], "does not exist"),
        ([source, "--batch-size", "0", str(tmp_path / "x")], "batch-size"),
    ]
    for args, needle in cases:
        result = CliRunner().invoke(main, ["replicate", *args])
        assert result.exit_code != 0, (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            args, result.exception)
        assert needle in result.output, (args, result.output)
    # A failed open leaves no directory behind (`ftp://host` is not a path either).
    assert not (tmp_path / "nowhere").exists()
    assert not (tmp_path / "ftp:").exists()


@pytest.fixture(scope="module")
def secured():
    server = start_pouchdb_server(admin=("root", "s3cret-pw"))
    yield server
    stop_pouchdb_server(server)


def test_unauthorized_stops_with_clear_error_and_hides_password(secured, tmp_path):
    db = f"{secured.url}/members"
    auth = ("root", "s3cret-pw")
    assert httpx.put(db, auth=auth).status_code == 201
    assert httpx.put(f"{db}/_security", auth=auth,
                     json={"members": {"names": ["bob"], "roles": []}}).status_code == 200
    with_creds = db.replace("http://", "http://mallory:wrong-pw@")
    result = CliRunner().invoke(main, ["replicate", with_creds, str(tmp_path / "x"),
                                       "--create-target"])
    assert result.exit_code == 1
    assert "Không được phép (401)" in result.output
    assert "wrong-pw" not in result.output
    result = CliRunner().invoke(main, ["replicate", db, str(tmp_path / "x"), "--create-target",
                                       "--user", "root:s3cret-pw"])
    assert result.exit_code == 0, result.output
    assert "s3cret-pw" not in result.output


def test_refused_documents_are_reported_and_the_rest_go_on(new_db, tmp_path):
    source, target = new_db("src"), new_db("dst")
    _seed(source, 10)
    bulk_write(source, [replicated_doc("bad1", history("bad1", 1), {"bad": True})])
    validator = ("function (newDoc) { if (newDoc.bad) { throw({forbidden: 'không hợp lệ'}); } }")
    response = httpx.put(f"{target}/_design/guard", json={"validate_doc_update": validator})
    assert response.status_code == 201
    result = invoke(source, target)
    assert result.exit_code == 2, result.output
    assert "lỗi 1" in result.output and "bad1" in result.output and "forbidden" in result.output
    assert [d for d, _ in all_docs(target) if not d.startswith("_design")] == [
        f"d{i:02}" for i in range(10)]
    # the refused one stays refused, nothing else is sent again
    again = invoke(source, target)
    assert "đã ghi 0" in again.output


def test_two_way_flag(new_db):
    a, b = new_db("a"), new_db("b")
    _seed(a, 5)
    bulk_write(b, [replicated_doc("only-b", history("only-b", 3), {"x": 1})])
    result = invoke(a, b, "--two-way")
    assert result.exit_code == 0, result.output
    assert trees(a) == trees(b) and len(trees(a)) == 6
    assert json.dumps(trees(a))  # plain JSON all the way


def test_ctrl_c_stops_a_continuous_run_with_its_summary(new_db, tmp_path):
    source = new_db("src")
    _seed(source)
    command = [str(Path(sys.executable).parent / "doorstep"), "replicate", "--continuous",
               "--create-target", source, str(tmp_path / "officer")]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    target = Store(tmp_path)
    deadline = time.monotonic() + 30
    while not (target.exists("officer") and target.open("officer").info()["doc_count"] == 25):
        assert time.monotonic() < deadline and run.poll() is None, run.communicate()
        time.sleep(0.2)
    time.sleep(1.0)  # idle: waiting in a long-poll
    stopping = time.monotonic()
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=30)
    assert run.returncode == 0, (out, err)
    assert "đã đọc 25 tài liệu, đã ghi 25, lỗi 0" in out
    assert "Đang dừng" in err
    assert time.monotonic() - stopping < 8.0  # within a heartbeat, not a whole poll
