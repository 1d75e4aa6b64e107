"""sync.revtree, function by function, on small trees written out by hand.

Trees are written as `tree((pos, spec), …)` where a spec is a hash or (hash, [children]);
a hash ending in `!` is a deletion, one ending in `?` is known only by id (not available).
`paths(tree)` prints a tree back as its root-to-leaf paths, e.g. "1-a? 2-b 3-c!".
The property tests (hypothesis) are in test_revtree_properties.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from sync import revtree as rt
from sync.errors import BadRequest

Spec = Any


def node(spec: Spec) -> rt.RevNode:
    label, kids = (spec, []) if isinstance(spec, str) else spec
    rev_hash = label.rstrip("!?")
    return rt.RevNode(rev_hash, "!" in label, "?" not in label, [node(k) for k in kids])


def tree(*roots: tuple[int, Spec]) -> rt.RevTree:
    return [rt.RevBranch(pos, node(spec)) for pos, spec in roots]


def chain(pos: int, *hashes: str) -> tuple[int, Spec]:
    """A linear root: chain(1, "a", "b", "c") is 1-a → 2-b → 3-c."""
    spec: Spec = hashes[-1]
    for rev_hash in reversed(hashes[:-1]):
        spec = (rev_hash, [spec])
    return (pos, spec)


def paths(forest: rt.RevTree) -> list[str]:
    out: list[str] = []
    stack = [(branch.pos, branch.node, "") for branch in reversed(forest)]
    while stack:
        pos, item, prefix = stack.pop()
        flag = "!" if item.deleted else "" if item.available else "?"
        here = f"{prefix} {pos}-{item.hash}{flag}".strip()
        if not item.children:
            out.append(here)
        stack.extend((pos + 1, child, here) for child in reversed(item.children))
    return out


def revisions(start: int, *ids: str, deleted: bool = False) -> rt.RevBranch:
    return rt.path_from_revisions(start, list(ids), deleted)


H32 = "0123456789abcdef" * 2


# --- rev ids ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rev", "parsed"),
    [
        ("1-a", (1, "a")),
        (f"12-{H32}", (12, H32)),
        ("999-AbC09", (999, "AbC09")),
    ],
)
def test_parse_rev_splits_generation_and_hash(rev: str, parsed: tuple[int, str]) -> None:
    assert rt.parse_rev(rev) == parsed


@pytest.mark.parametrize(
    "rev",
    [
        "",
        "abc",
        "0-abc",
        "-1-abc",
        "01-abc",
        "1-",
        "1-ab-c",
        "1-ab c",
        "x-abc",
        "1-" + "a" * 65,
        None,
        5,
        ["1-a"],
        "1-é",
        "1-abc\n",
    ],
)
def test_parse_rev_rejects_bad_revs_naming_them(rev: object) -> None:
    with pytest.raises(BadRequest) as caught:
        rt.parse_rev(rev)
    assert repr(rev) in caught.value.reason
    assert caught.value.status == 400


def test_canonical_json_sorts_keys_and_drops_spaces() -> None:
    assert rt.canonical_json({"b": [1, {"d": 1, "c": 2}], "a": "Việt"}) == (
        '{"a":"Việt","b":[1,{"c":2,"d":1}]}'.encode()
    )
    with pytest.raises(ValueError, match="Out of range"):
        rt.canonical_json({"x": float("nan")})


BODY = {"type": "dossier", "name": "Nguyễn Văn A"}
DIGESTS = [("scan.jpg", "md5-AAAA"), ("form.pdf", "md5-BBBB")]
BASE = rt.new_rev_id("1-" + H32, False, BODY, DIGESTS)


def test_new_rev_id_is_deterministic_and_well_formed() -> None:
    assert rt.new_rev_id("1-" + H32, False, dict(reversed(BODY.items())), DIGESTS) == BASE
    assert rt.new_rev_id("1-" + H32, False, BODY, list(reversed(DIGESTS))) == BASE
    pos, rev_hash = rt.parse_rev(BASE)
    assert pos == 2 and len(rev_hash) == 32 and int(rev_hash, 16) >= 0
    assert rt.new_rev_id(None, False, BODY).startswith("1-")


@pytest.mark.parametrize(
    "changed",
    [
        rt.new_rev_id("1-" + "f" * 32, False, BODY, DIGESTS),  # another parent
        rt.new_rev_id("1-" + H32, True, BODY, DIGESTS),  # deleted
        rt.new_rev_id("1-" + H32, False, {**BODY, "name": "Nguyễn Văn B"}, DIGESTS),  # body
        rt.new_rev_id("1-" + H32, False, BODY, [("scan.jpg", "md5-CCCC"), DIGESTS[1]]),
        rt.new_rev_id("1-" + H32, False, BODY, DIGESTS[:1]),  # one attachment fewer
        rt.new_rev_id("1-" + H32, False, BODY),  # none
    ],
)
def test_new_rev_id_depends_on_every_input(changed: str) -> None:
    assert changed != BASE


# --- paths --------------------------------------------------------------------------------


def test_path_from_revisions_is_the_history_newest_last() -> None:
    path = revisions(3, "c", "b", "a", deleted=True)
    assert path.pos == 1
    assert paths([path]) == ["1-a? 2-b? 3-c!"]


@pytest.mark.parametrize(
    ("start", "ids", "words"),
    [
        (1, ["b", "a"], "too small"),
        (3, [], "non-empty"),
        (3, "abc", "non-empty"),
        ("3", ["a"], "integer"),
        (True, ["a"], "integer"),
        (3, ["a", "b-c"], "'b-c'"),
        (3, ["a", 7], "7"),
        (3, ["a", "b\n"], "'b\\\\n'"),
    ],
)
def test_path_from_revisions_rejects_bad_histories(start: Any, ids: Any, words: str) -> None:
    with pytest.raises(BadRequest, match=words):
        rt.path_from_revisions(start, ids)


def test_path_for_edit() -> None:
    assert paths([rt.path_for_edit(None, "1-a", False)]) == ["1-a"]
    assert paths([rt.path_for_edit("1-a", "2-b", True)]) == ["1-a? 2-b!"]
    with pytest.raises(BadRequest, match="cannot follow"):
        rt.path_for_edit("1-a", "3-b", False)


# --- winner, leaves, conflicts ------------------------------------------------------------

WINNER_CASES = [
    # (tree, winner, _conflicts, _deleted_conflicts)
    pytest.param(tree((1, "a")), "1-a", [], [], id="one revision"),
    pytest.param(tree((1, "a"), (1, "b")), "1-b", ["1-a"], [], id="greater hash wins"),
    pytest.param(
        tree((1, ("x", ["a"])), (1, "z")), "2-a", ["1-z"], [], id="higher generation wins"
    ),
    pytest.param(tree((1, ("x", ["a", "b!"]))), "2-a", [], ["2-b"], id="not deleted beats deleted"),
    pytest.param(
        tree(chain(1, "x", "y", "z!"), (1, "a")),
        "1-a",
        [],
        ["3-z"],
        id="not deleted beats a deleted newer generation",
    ),
    pytest.param(
        tree((1, ("x", ["a!", "b!"]))), "2-b", [], ["2-a"], id="all deleted: greatest wins"
    ),
    pytest.param(tree((1, "9"), (1, "10")), "1-9", ["1-10"], [], id="hashes compare as text"),
    pytest.param(tree((1, "B"), (1, "a")), "1-a", ["1-B"], [], id="lower case after upper"),
    pytest.param(
        tree((1, ("r", ["c", ("d", ["e!"]), "f"]))),
        "2-f",
        ["2-c"],
        ["3-e"],
        id="deleted leaf deep, live ones shallow",
    ),
    pytest.param(
        tree(chain(2, "b", "c", "q"), chain(3, "c", "q"), chain(2, "b", "x")),
        "4-q",
        ["3-x"],
        [],
        id="a leaf in two roots counts once",
    ),
]


@pytest.mark.parametrize(("forest", "winner", "conflicts", "deleted"), WINNER_CASES)
def test_winner_and_conflicts(
    forest: rt.RevTree, winner: str, conflicts: list[str], deleted: list[str]
) -> None:
    assert rt.winning_rev(forest) == winner
    assert rt.winning_leaf(forest).rev == winner
    assert rt.conflicts(forest) == conflicts
    assert rt.deleted_conflicts(forest) == deleted
    assert rt.leaves(forest)[0].rev == winner


def test_is_deleted_follows_the_winner() -> None:
    assert rt.is_deleted(tree((1, ("x", ["a!", "b!"]))))
    assert not rt.is_deleted(tree((1, ("x", ["a", "b!"]))))


def test_leaves_come_winner_first_then_by_generation_and_hash() -> None:
    forest = tree((1, ("r", ["c", ("d", ["e!"]), "f?"])), (1, "z"))
    assert [leaf.rev for leaf in rt.leaves(forest)] == ["2-f", "2-c", "1-z", "3-e"]
    by_rev = {leaf.rev: leaf for leaf in rt.leaves(forest)}
    assert by_rev["3-e"].deleted and not by_rev["2-f"].available


def test_empty_tree_has_no_winner() -> None:
    with pytest.raises(ValueError, match="empty"):
        rt.winning_rev([])


# --- finding, latest, ancestry ------------------------------------------------------------

BRANCHED = tree((1, ("a", [("b", ["c", ("d!", ["e"])]), "x!"])))


@pytest.mark.parametrize(
    ("rev", "exists", "latest", "ancestry"),
    [
        ("1-a", True, ["4-e", "3-c", "2-x"], ["a"]),
        ("2-b", True, ["4-e", "3-c"], ["b", "a"]),
        ("3-d", True, ["4-e"], ["d", "b", "a"]),
        ("4-e", True, ["4-e"], ["e", "d", "b", "a"]),
        ("2-x", True, ["2-x"], ["x", "a"]),
        ("3-x", False, [], []),
        ("2-c", False, [], []),
    ],
)
def test_find_latest_ancestry(
    rev: str, exists: bool, latest: list[str], ancestry: list[str]
) -> None:
    assert rt.rev_exists(BRANCHED, rev) is exists
    assert (rt.find(BRANCHED, rev) is not None) is exists
    assert rt.latest(BRANCHED, rev) == latest
    assert rt.ancestry(BRANCHED, rev) == ancestry


def test_find_gives_the_node_with_its_flags() -> None:
    found = rt.find(BRANCHED, "3-d")
    assert found is not None and found.deleted and found.hash == "d"


def test_all_revs() -> None:
    assert rt.all_revs(BRANCHED) == {"1-a", "2-b", "3-c", "3-d", "4-e", "2-x"}


def test_ancestry_takes_the_longest_history_when_stemming_left_two_roots() -> None:
    forest = tree(chain(2, "b", "c", "d"), chain(3, "c", "y", "z"))
    assert rt.ancestry(forest, "3-c") == ["c", "b"]
    assert rt.ancestry(forest, "5-z") == ["z", "y", "c"]
    assert rt.latest(forest, "3-c") == ["5-z", "4-d"]


# --- revs_diff ----------------------------------------------------------------------------

DIFF_TREE = tree((1, ("a?", [("b", ["c", "d"])])))


@pytest.mark.parametrize(
    ("revs", "missing", "ancestors"),
    [
        (["2-b", "3-c"], (), ()),
        (["1-a"], (), ()),  # known by id only: not missing, as in CouchDB
        (["4-x"], ("4-x",), ("3-d", "3-c")),
        (["3-x"], ("3-x",), ()),
        (["2-x", "5-y", "3-c"], ("2-x", "5-y"), ("3-d", "3-c")),
        (["4-x", "4-x"], ("4-x",), ("3-d", "3-c")),
        ([], (), ()),
    ],
)
def test_revs_diff(revs: list[str], missing: tuple[str, ...], ancestors: tuple[str, ...]) -> None:
    assert rt.revs_diff(DIFF_TREE, revs) == rt.RevsDiff(missing, ancestors)


def test_revs_diff_on_an_empty_tree_misses_everything() -> None:
    assert rt.revs_diff([], ["1-a", "2-b"]) == rt.RevsDiff(("1-a", "2-b"), ())


def test_revs_diff_rejects_bad_revs() -> None:
    with pytest.raises(BadRequest, match="'2_b'"):
        rt.revs_diff(DIFF_TREE, ["3-c", "2_b"])


# --- merge --------------------------------------------------------------------------------

MERGE_CASES = [
    # (tree, path, revs_limit, result paths, outcome, stemmed)
    pytest.param([], revisions(1, "a"), 10, ["1-a"], "new_leaf", (), id="first revision"),
    pytest.param(
        tree((1, "a")), revisions(2, "b", "a"), 10, ["1-a 2-b"], "new_leaf", (), id="edit"
    ),
    pytest.param(
        tree(chain(1, "a", "b")),
        revisions(2, "c", "a"),
        10,
        ["1-a 2-b", "1-a 2-c"],
        "new_branch",
        (),
        id="conflicting edit",
    ),
    pytest.param(
        tree(chain(1, "a", "b", "c")),
        revisions(2, "b", "a"),
        10,
        ["1-a 2-b 3-c"],
        "internal_node",
        (),
        id="known path",
    ),
    pytest.param(
        tree(chain(1, "a", "b!")),
        revisions(3, "c", "b"),
        10,
        ["1-a 2-b! 3-c"],
        "new_leaf",
        (),
        id="edit on a deletion",
    ),
    pytest.param(
        tree(chain(1, "a", "b", "c")),
        revisions(4, "d", "c"),
        3,
        ["2-b 3-c 4-d"],
        "new_leaf",
        ("1-a",),
        id="stems the oldest",
    ),
    pytest.param(
        tree(chain(1, "a", "b", "c")),
        revisions(4, "d", "c"),
        1,
        ["4-d"],
        "new_leaf",
        ("1-a", "2-b", "3-c"),
        id="revs_limit 1",
    ),
    pytest.param(
        tree(chain(2, "b", "c", "d")),
        revisions(4, "d", "c", "b", "a"),
        3,
        ["2-b 3-c 4-d"],
        "internal_node",
        ("1-a",),
        id="regraft of a stemmed path is stemmed again",
    ),
    pytest.param(
        tree(chain(2, "b", "c", "d")),
        revisions(4, "d", "c", "b", "a"),
        10,
        ["1-a? 2-b 3-c 4-d"],
        "internal_node",
        (),
        id="regraft under a larger limit brings the old revision back",
    ),
    pytest.param(
        tree(chain(2, "b", "c", "d")),
        revisions(2, "z", "a"),
        3,
        ["1-a? 2-z", "2-b 3-c 4-d"],
        "internal_node",
        (),
        id="branch from a stemmed revision becomes its own root",
    ),
    pytest.param(
        tree((1, "a")),
        revisions(1, "b"),
        10,
        ["1-a", "1-b"],
        "internal_node",
        (),
        id="second creation is a second root",
    ),
    pytest.param(
        tree(chain(3, "c", "d")),
        revisions(5, "e", "d", "c", "b", "a"),
        10,
        ["1-a? 2-b? 3-c 4-d 5-e"],
        "internal_node",  # pouchdb-merge's word when the path is older than the root
        (),
        id="older history grafts a stemmed root back on",
    ),
    pytest.param(
        tree(chain(2, "b", "m"), chain(4, "d", "u")),
        revisions(6, "j", "u", "d", "c", "b", "a"),
        10,
        ["1-a? 2-b 3-c? 4-d 5-u 6-j", "1-a? 2-b 3-m"],
        "new_branch",
        (),
        id="one path grafts into two roots",
    ),
    pytest.param(
        tree(chain(2, "b", "c", "d"), chain(3, "c", "y")),
        revisions(4, "q", "c"),
        10,
        ["2-b 3-c 4-d", "2-b 3-c 4-q", "3-c 4-q", "3-c 4-y"],
        "new_branch",
        (),
        id="a revision in two roots gets the child in both",
    ),
]


@pytest.mark.parametrize(("before", "path", "limit", "after", "outcome", "stemmed"), MERGE_CASES)
def test_merge(
    before: rt.RevTree,
    path: rt.RevBranch,
    limit: int,
    after: list[str],
    outcome: str,
    stemmed: tuple[str, ...],
) -> None:
    snapshot = rt.to_json(before), rt.to_json([path])
    result = rt.merge(before, path, limit)
    assert paths(result.tree) == after
    assert result.outcome == outcome
    assert sorted(result.stemmed) == sorted(stemmed)
    assert (rt.to_json(before), rt.to_json([path])) == snapshot  # inputs untouched


def test_merging_the_same_edit_twice_changes_nothing() -> None:
    once = rt.merge(tree(chain(1, "a", "b")), revisions(3, "c", "b"), 10)
    twice = rt.merge(once.tree, revisions(3, "c", "b"), 10)
    assert twice.outcome == "internal_node"
    assert rt.to_json(twice.tree) == rt.to_json(once.tree)


def test_merge_makes_a_known_id_available_and_keeps_deletions() -> None:
    forest = tree(chain(1, "a?", "b"))
    result = rt.merge(forest, revisions(1, "a", deleted=True), 10)
    assert paths(result.tree) == ["1-a! 2-b"]


@pytest.mark.parametrize("limit", [0, -1, True, 1.5, "3"])
def test_merge_and_stem_reject_a_bad_revs_limit(limit: Any) -> None:
    with pytest.raises(BadRequest, match="revs_limit"):
        rt.merge([], revisions(1, "a"), limit)
    with pytest.raises(BadRequest, match="revs_limit"):
        rt.stem(tree((1, "a")), limit)


# --- stem ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "depth", "after", "stemmed"),
    [
        pytest.param(tree(chain(1, "a", "b", "c")), 3, ["1-a 2-b 3-c"], (), id="within"),
        pytest.param(tree(chain(1, "a", "b", "c")), 2, ["2-b 3-c"], ("1-a",), id="linear"),
        pytest.param(
            tree((1, ("a", [("b", [("c", ["d"]), "x"])]))),
            2,
            ["2-b 3-x", "3-c 4-d"],
            ("1-a",),
            id="each branch keeps its own newest",
        ),
        pytest.param(
            tree((1, ("a", [("b", [("c", ["d", ("y", ["z"])])])]))),
            3,
            ["2-b 3-c 4-d", "3-c 4-y 5-z"],
            ("1-a",),
            id="a revision may stay in two roots",
        ),
        pytest.param(
            tree((1, ("a", ["b!", "c?"]))),
            1,
            ["2-b!", "2-c?"],
            ("1-a",),
            id="flags survive",
        ),
        pytest.param(
            tree((1, ("a", ["c", "b"]))), 5, ["1-a 2-b", "1-a 2-c"], (), id="children sorted"
        ),
        pytest.param(
            tree(chain(1, "a", "b"), chain(1, "a", "c")),
            5,
            ["1-a 2-b", "1-a 2-c"],
            (),
            id="twin roots merged",
        ),
    ],
)
def test_stem(before: rt.RevTree, depth: int, after: list[str], stemmed: tuple[str, ...]) -> None:
    snapshot = rt.to_json(before)
    result, cut = rt.stem(before, depth)
    assert paths(result) == after
    assert sorted(cut) == sorted(stemmed)
    assert rt.to_json(before) == snapshot


# --- compaction and purge -----------------------------------------------------------------


def test_compaction_drops_bodies_of_non_leaves_only() -> None:
    forest = tree((1, ("a", [("b", ["c", "d!"]), "x?"])))
    assert sorted(rt.compactable(forest)) == ["1-a", "2-b"]
    compact = rt.compacted(forest)
    assert paths(compact) == ["1-a? 2-b? 3-c", "1-a? 2-b? 3-d!", "1-a? 2-x?"]
    assert rt.compactable(compact) == []
    assert paths(forest) == ["1-a 2-b 3-c", "1-a 2-b 3-d!", "1-a 2-x?"]  # untouched


@pytest.mark.parametrize(
    ("revs", "after", "purged"),
    [
        (["3-c"], ["1-a 2-b 3-d!", "1-a 2-x"], ("3-c",)),
        (["3-c", "3-d"], ["1-a 2-x"], ("3-c", "3-d")),
        (["3-c", "3-d", "2-x"], [], ("3-c", "3-d", "2-x")),
        (["2-b"], ["1-a 2-b 3-c", "1-a 2-b 3-d!", "1-a 2-x"], ()),  # not a leaf: ignored
        (["9-z"], ["1-a 2-b 3-c", "1-a 2-b 3-d!", "1-a 2-x"], ()),
    ],
)
def test_purge_removes_leaves_and_emptied_ancestors(
    revs: list[str], after: list[str], purged: tuple[str, ...]
) -> None:
    forest = tree((1, ("a", [("b", ["c", "d!"]), "x"])))
    result, gone = rt.purge(forest, revs)
    assert paths(result) == after
    assert sorted(gone) == sorted(purged)
    assert len(paths(forest)) == 3  # untouched


def test_purge_of_a_linear_document_empties_it() -> None:
    assert rt.purge(tree(chain(1, "a", "b", "c")), ["3-c"]) == ([], ("3-c",))


def test_purge_rejects_bad_revs() -> None:
    with pytest.raises(BadRequest):
        rt.purge(tree((1, "a")), ["a"])


# --- storage form -------------------------------------------------------------------------

DEEP = 1500  # beyond Python's recursion limit and the JSON encoders'


def deep_tree() -> rt.RevTree:
    """1-…01 → 2-…02 → … → 1500-…5dc, every body available."""
    top = rt.RevNode(f"{DEEP:032x}")
    for pos in range(DEEP - 1, 0, -1):
        top = rt.RevNode(f"{pos:032x}", children=[top])
    return [rt.RevBranch(1, top)]


@pytest.mark.parametrize(
    "forest",
    [
        [],
        tree((1, "a")),
        tree((1, ("a?", [("b", ["c!", ("d", ["e?"])]), "x!"])), chain(3, "c", "y")),
        deep_tree(),
    ],
)
def test_to_json_from_json_round_trip(forest: rt.RevTree) -> None:
    encoded = json.loads(json.dumps(rt.to_json(forest)))
    assert paths(rt.from_json(encoded)) == paths(forest)
    assert rt.to_json(rt.from_json(encoded)) == rt.to_json(forest)


def test_from_json_reads_the_nested_format_1() -> None:
    nested = [[1, ["a", 2, [["b", 1, []], ["c", 0, []]]]]]
    assert paths(rt.from_json(nested)) == ["1-a? 2-b!", "1-a? 2-c"]


@pytest.mark.parametrize(
    "data",
    [
        [2, [1, "a", 0, 1]],  # says one child, has none
        [2, [1, "a", 0, 0, "b", 0, 0]],  # trailing node
        [2, [1, "a", 0]],
        [2, [1, 7, 0, 0]],
        [2, ["x", "a", 0, 0]],
        [[1, ["a", "?", []]]],
    ],
)
def test_from_json_rejects_corrupt_data(data: list[Any]) -> None:
    with pytest.raises(ValueError, match="corrupt revision tree"):
        rt.from_json(data)


def test_deep_documents_work_everywhere() -> None:
    """revs_limit is 1000: every function handles trees deeper than Python's recursion."""
    forest = deep_tree()
    tip = f"{DEEP}-{DEEP:032x}"
    edit = rt.merge(forest, rt.path_for_edit(tip, f"{DEEP + 1}-{'f' * 32}", False), 1000)
    assert edit.tree[0].pos == DEEP + 2 - 1000 and len(edit.stemmed) == DEEP + 1 - 1000
    assert rt.winning_rev(edit.tree) == f"{DEEP + 1}-{'f' * 32}"
    assert len(rt.ancestry(forest, tip)) == DEEP
    assert rt.latest(forest, f"1-{1:032x}") == [tip]
    assert rt.from_json(rt.to_json(forest)) == forest
    assert "children=" in repr(forest)
    assert rt.purge(forest, [tip]) == ([], (tip,))
    assert len(rt.compactable(forest)) == DEEP - 1
    assert rt.compactable(rt.compacted(forest)) == []
    assert len(rt.stem(forest, 10)[0][0].node.hash) == 32
    assert rt.revs_diff(forest, [tip]) == rt.RevsDiff((), ())


def test_a_revision_with_a_child_in_another_root_is_not_a_leaf() -> None:
    # Stemming to 3 splits 1-a→2-b→{3-c, 3-d→4-e} into two roots; re-sending 2-b→3-d then
    # grafts 3-d into the first root only (pouchdb-merge's rule), where it ends a path.
    # 3-d has a child (4-e), so it is no leaf and no conflict, and its latest is 4-e.
    tree: rt.RevTree = []
    for start, ids in [(3, ["c", "b"]), (4, ["e", "d", "b", "a"]), (3, ["d", "b"])]:
        tree = rt.merge(tree, rt.path_from_revisions(start, ids), 3).tree
    assert len(tree) == 2
    assert [leaf.rev for leaf in rt.leaves(tree)] == ["4-e", "3-c"]
    assert rt.winning_rev(tree) == "4-e"
    assert rt.conflicts(tree) == ["3-c"]
    assert rt.latest(tree, "3-d") == ["4-e"]
    assert rt.latest(tree, "2-b") == ["4-e", "3-c"]
    assert rt.revs_diff(tree, ["5-f"]).possible_ancestors == ("4-e", "3-c")


def test_purge_leaves_no_phantom_leaf_where_a_stemmed_root_repeats_a_branch() -> None:
    # Merging these paths (found by the purge property) leaves a stemmed root at 2-c4ca
    # repeating part of the first root; there 4-c9f0 stands childless (a phantom, not a
    # leaf). Purging 5-6512 empties 4-c9f0 in the first root, so the phantom goes too.
    paths = [
        (5, ["1679", "a87f", "c81e", "c4ca", "cfcd"], False),
        (3, ["e4da"], True),
        (5, ["c20a", "45c4", "e4da", "c4ca"], False),
        (5, ["6512", "c9f0", "c81e"], True),
        (4, ["c9f0", "c81e", "c4ca"], True),
    ]
    tree: rt.RevTree = []
    for start, ids, deleted in paths:
        tree = rt.merge(tree, rt.path_from_revisions(start, ids, deleted), 1000).tree
    before = {leaf.rev for leaf in rt.leaves(tree)}
    assert "5-6512" in before
    assert "4-c9f0" not in before

    result, purged = rt.purge(tree, ["5-6512"])

    assert purged == ("5-6512",)
    assert {leaf.rev for leaf in rt.leaves(result)} == before - {"5-6512"}
