"""The store's write path encodes each body once: the canonical bytes its rev id hashes are
the bytes it stores. These tests pin that the shortcuts give exactly what the general code
gives: rev ids (which are stored and replicated), tree blobs and stored bodies."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import msgspec
import pytest

from sync import revtree
from sync.errors import BadRequest, TooLarge
from sync.store.documents import canonical_body, split
from sync.store.writes import DocState, decode_tree, encode_tree, open_body, seal_body

H32 = "0123456789abcdef" * 2
BODIES: list[dict[str, Any]] = [
    {},
    {"type": "dossier", "schema": 1, "access": ["officer:o12", "ward:26734"]},
    {"z": {"b": [1, {"d": None, "c": True}], "a": "Nguyễn Thị Hạnh"}, "a": -7, "m": 2.5},
    {"text": 'quote " backslash \\ tab \t newline \n', "đường": "Số 12"},
]
PARENTS = [None, "1-" + H32, "17-abc"]
DIGESTS: list[list[tuple[str, str]]] = [[], [("b.jpg", "md5-BB"), ("a.pdf", "md5-AA")]]


def _reference_rev_id(
    parent: str | None, deleted: bool, body: dict[str, Any], digests: list[tuple[str, str]]
) -> str:
    """Version 1 of the rev id, written independently with the standard library."""
    pos, parent_hash = (int(parent.split("-")[0]), parent.split("-")[1]) if parent else (0, "")
    material = [1, deleted, pos, parent_hash, body, sorted(digests)]
    text = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{pos + 1}-{hashlib.md5(text.encode()).hexdigest()}"


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("parent", PARENTS)
@pytest.mark.parametrize("deleted", [False, True])
@pytest.mark.parametrize("digests", DIGESTS)
def test_rev_id_from_canonical_bytes_is_the_rev_id(
    body: dict[str, Any], parent: str | None, deleted: bool, digests: list[tuple[str, str]]
) -> None:
    expected = _reference_rev_id(parent, deleted, body, digests)
    assert revtree.new_rev_id(parent, deleted, body, digests) == expected
    canonical = canonical_body(body, 1_000_000)
    assert revtree.rev_id_for_canonical(parent, deleted, canonical, digests) == expected


@pytest.mark.parametrize("deleted", [False, True])
@pytest.mark.parametrize("available", [False, True])
def test_a_one_node_tree_blob_is_what_the_general_encoder_writes(
    deleted: bool, available: bool
) -> None:
    tree = [revtree.RevBranch(1, revtree.RevNode(H32, deleted, available))]
    blob = encode_tree(tree)
    assert blob == msgspec.json.encode(revtree.to_json(tree))
    assert decode_tree(blob) == tree


@pytest.mark.parametrize("deleted", [False, True])
def test_a_created_state_is_the_tree_a_first_edit_builds(deleted: bool) -> None:
    rev = "1-" + H32
    state = DocState.created(rev, deleted)
    blob = state.encoded()  # before anything built the tree
    expected = [revtree.path_for_edit(None, rev, deleted)]
    assert blob == encode_tree(expected) == msgspec.json.encode(revtree.to_json(expected))
    assert state.tree == expected
    assert state.encoded() == blob  # and the same once it is built
    assert revtree.winning_leaf(state.tree).rev == state.winner == rev


def test_larger_trees_take_the_general_encoder() -> None:
    child = revtree.RevNode("b" * 32)
    tree = [revtree.RevBranch(1, revtree.RevNode("a" * 32, children=[child]))]
    stemmed = [revtree.RevBranch(2, revtree.RevNode("c" * 32))]
    for case in (tree, stemmed):
        assert encode_tree(case) == msgspec.json.encode(revtree.to_json(case))
        assert decode_tree(encode_tree(case)) == case


@pytest.mark.parametrize("meta", [None, {"a.pdf": {"digest": "md5-AA", "length": 3}}])
def test_a_sealed_body_opens_to_the_body_and_its_attachment_meta(
    meta: dict[str, Any] | None,
) -> None:
    body = BODIES[2]
    data = seal_body(None, "d", "1-" + H32, canonical_body(body, 1_000_000), meta)
    assert json.loads(data) == [body, meta]
    assert open_body(None, "d", "1-" + H32, data) == (body, meta)


def test_a_body_that_is_not_json_or_too_large_is_refused() -> None:
    with pytest.raises(BadRequest, match="not valid JSON"):
        canonical_body({"x": float("nan")}, 1_000_000)
    with pytest.raises(BadRequest, match="not valid JSON"):
        canonical_body({"x": object()}, 1_000_000)
    with pytest.raises(TooLarge, match="limit is 10"):
        canonical_body({"x": "y" * 20}, 10)


def test_split_keeps_ignored_specials_out_of_the_body() -> None:
    doc = {"_id": "a", "_conflicts": ["1-x"], "_revs_info": [], "_local_seq": 3, "n": 1}
    body = split(doc, new_edits=True).body
    assert body == {"n": 1}
    assert "_conflicts" in doc  # the caller's document is left as it was
