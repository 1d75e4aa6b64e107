"""Validation of incoming documents and attachment digests (pure, no database)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from sync.errors import BadRequest
from sync.store.attachments import Digester, decode_base64, digest_of
from sync.store.documents import check_doc_id, check_local_id, project, split


def test_split_separates_specials_from_the_body() -> None:
    incoming = split({"_id": "a", "_rev": "1-abc", "_deleted": True, "x": 1}, new_edits=True)
    parts = (incoming.id, incoming.rev, incoming.deleted, incoming.body)
    assert parts == ("a", "1-abc", True, {"x": 1})


@pytest.mark.parametrize(
    "members",
    [
        {"x": 1},
        {"Name": "A", "1st": 2, "$ref": 3, "^": 4, "`": 5, "": 6, "tên": "Hà"},  # below "`" too
        {},
    ],
)
def test_every_member_that_is_not_special_stays_in_the_body(members: dict[str, int]) -> None:
    body = split({"_id": "a", "_rev": "1-abc", **members}, new_edits=True).body
    assert body == members


def test_a_bad_special_is_found_among_names_that_sort_before_it() -> None:
    with pytest.raises(BadRequest, match="bad special document member: _x"):
        split({"_id": "a", "A": 1, "_x": 2, "b": 3}, new_edits=True)


@pytest.mark.parametrize(
    "doc, message",
    [
        ([1, 2], "JSON object"),
        ({"_id": 5}, "must be a string"),
        ({"_id": ""}, "must not be empty"),
        ({"_id": "_users"}, "underscore"),
        ({"_id": "x" * 2000}, "limit is 1024"),
        ({"_id": "a", "_rev": "abc"}, "Invalid rev format"),
        ({"_id": "a", "_rev": "0-abc"}, "Invalid rev format"),
        ({"_id": "a", "_foo": 1}, "bad special document member: _foo"),
        ({"_id": "a", "_deleted": "yes"}, "true or false"),
        ({"_id": "a", "_attachments": []}, "_attachments must be an object"),
        ({"_id": "a", 3: "x"}, "member names must be strings"),
    ],
)
def test_malformed_documents_are_refused_with_a_reason(doc: object, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        split(doc, new_edits=True)


@pytest.mark.parametrize(
    "revisions, message",
    [
        ({"start": 0, "ids": ["a"]}, "positive integer"),
        ({"start": 2, "ids": []}, "non-empty list"),
        ({"start": 1, "ids": ["a", "b"]}, "smaller than"),
        ({"start": 2, "ids": ["zz", "b"]}, "does not match"),
        ({"start": 2, "ids": ["a", "b!"]}, "Invalid rev format"),
        ("2-a", "must be an object"),
    ],
)
def test_bad_revisions_for_new_edits_false(revisions: object, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        split({"_id": "d", "_rev": "2-a", "_revisions": revisions}, new_edits=False)


def test_new_edits_false_needs_a_rev() -> None:
    with pytest.raises(BadRequest, match="needs a _rev"):
        split({"_id": "d"}, new_edits=False)
    doc = {"_id": "d", "_revisions": {"start": 2, "ids": ["b", "a"]}}
    assert split(doc, new_edits=False).rev == "2-b"


def test_ids() -> None:
    assert check_doc_id("_design/app") == "_design/app"
    assert check_local_id("_local/abc") == "_local/abc"
    with pytest.raises(BadRequest):
        check_local_id("_local/")
    with pytest.raises(BadRequest):
        check_doc_id("\ud800")


def test_digest_is_couchdb_md5_base64_and_streaming_gives_the_same() -> None:
    data = "Giấy chứng nhận".encode() * 1000
    expected = "md5-" + base64.b64encode(hashlib.md5(data).digest()).decode()
    assert digest_of(data) == expected
    digester = Digester()
    for start in range(0, len(data), 777):
        digester.update(data[start : start + 777])
    assert (digester.digest, digester.length) == (expected, len(data))
    assert digest_of(b"") == "md5-1B2M2Y8AsgTpgAmY7PhCfg=="


def test_base64_is_checked() -> None:
    assert decode_base64("aGVsbG8=", "a") == b"hello"
    with pytest.raises(BadRequest, match="not valid base64"):
        decode_base64("aGVsbG8", "a")


def test_project_keeps_named_paths_only() -> None:
    doc = {"_id": "a", "c": {"n": 1, "m": 2}, "z": 3}
    assert project(doc, ["_id", "c.n", "nope.x"]) == {"_id": "a", "c": {"n": 1}}
