"""Properties of sync.revtree that hold for every history (hypothesis).

Histories are consistent, as real ones are: every rev id has one parent and one deletion
flag. Paths are `_revisions` cut from them at any length, as replication sends them.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from sync import revtree as rt

LIMITS = st.one_of(st.integers(1, 6), st.just(1000))


@dataclass(frozen=True)
class Path:
    start: int
    ids: tuple[str, ...]
    deleted: bool

    def branch(self) -> rt.RevBranch:
        return rt.path_from_revisions(self.start, list(self.ids), self.deleted)

    def revs(self) -> set[str]:
        return {f"{self.start - i}-{rev_hash}" for i, rev_hash in enumerate(self.ids)}


@st.composite
def histories(draw: st.DrawFn) -> list[Path]:
    """Paths cut from one random history: 1–25 revisions, any branching."""
    parents: list[str | None] = []
    revs: list[str] = []
    deleted: dict[str, bool] = {}
    for index in range(draw(st.integers(1, 25))):
        parent = draw(st.sampled_from([None, *revs[-6:]])) if revs else None
        pos = rt.parse_rev(parent)[0] + 1 if parent else 1
        rev = f"{pos}-{hashlib.md5(str(index).encode()).hexdigest()}"
        revs.append(rev)
        parents.append(parent)
        deleted[rev] = draw(st.booleans())
    parent_of = dict(zip(revs, parents, strict=True))
    paths = []
    for _ in range(draw(st.integers(1, 8))):
        rev = draw(st.sampled_from(revs))
        ids: list[str] = []
        current: str | None = rev
        length = draw(st.integers(1, rt.parse_rev(rev)[0]))
        while current is not None and len(ids) < length:
            ids.append(rt.parse_rev(current)[1])
            current = parent_of[current]
        paths.append(Path(rt.parse_rev(rev)[0], tuple(ids), deleted[rev]))
    return paths


def build(paths: list[Path], limit: int = 1000) -> rt.RevTree:
    tree: rt.RevTree = []
    for path in paths:
        tree = rt.merge(tree, path.branch(), limit).tree
    return tree


def canonical(tree: rt.RevTree) -> list[tuple[int, str]]:
    return sorted((branch.pos, str(rt.to_json([branch]))) for branch in tree)


@given(histories(), st.data())
def test_merging_a_known_path_again_changes_nothing(paths: list[Path], data: st.DataObject) -> None:
    tree = build(paths)
    again = data.draw(st.sampled_from(paths))
    result = rt.merge(tree, again.branch(), 1000)
    assert result.stemmed == ()
    # The revisions, leaves and winner never change.
    assert rt.all_revs(result.tree) == rt.all_revs(tree)
    assert rt.leaves(result.tree) == rt.leaves(tree)
    # With one root nothing changes at all. With several (a partial history merged before
    # its ancestors), pouchdb-merge grafts into the first overlapping root only, so a second
    # pass may fold the roots together further and report it: the oracle checks that parity.
    if len(tree) == 1:
        assert result.outcome == "internal_node"
        assert canonical(result.tree) == canonical(tree)


@given(histories(), LIMITS)
def test_merging_the_last_path_again_changes_nothing_even_when_stemming(
    paths: list[Path], limit: int
) -> None:
    tree = build(paths, limit)
    assert canonical(rt.merge(tree, paths[-1].branch(), limit).tree) == canonical(tree)


@given(histories(), st.randoms(use_true_random=False))
def test_without_stemming_merge_order_does_not_change_the_leaves(
    paths: list[Path], rng: random.Random
) -> None:
    shuffled = list(paths)
    rng.shuffle(shuffled)
    first, second = build(paths), build(shuffled)
    assert {leaf.rev for leaf in rt.leaves(first)} == {leaf.rev for leaf in rt.leaves(second)}
    assert rt.winning_rev(first) == rt.winning_rev(second)
    assert rt.all_revs(first) == rt.all_revs(second)


@given(histories())
def test_without_stemming_the_leaves_are_the_revs_nothing_descends_from(
    paths: list[Path],
) -> None:
    known = set().union(*(path.revs() for path in paths))
    with_child = {
        f"{path.start - i - 1}-{path.ids[i + 1]}"
        for path in paths
        for i in range(len(path.ids) - 1)
    }
    tree = build(paths)
    assert rt.all_revs(tree) == known
    assert {leaf.rev for leaf in rt.leaves(tree)} == known - with_child


@given(histories(), LIMITS)
def test_the_winner_is_the_best_leaf_and_the_rest_are_conflicts(
    paths: list[Path], limit: int
) -> None:
    tree = build(paths, limit)
    leaves = rt.leaves(tree)
    winner = rt.winning_leaf(tree)
    assert winner in leaves
    assert all(
        (not winner.deleted, winner.pos, winner.hash) >= (not leaf.deleted, leaf.pos, leaf.hash)
        for leaf in leaves
    )
    others = {leaf.rev for leaf in leaves} - {winner.rev}
    live, dead = set(rt.conflicts(tree)), set(rt.deleted_conflicts(tree))
    assert live | dead == others and not live & dead
    assert rt.is_deleted(tree) == winner.deleted


@given(histories(), LIMITS)
def test_stemming_keeps_every_path_within_the_limit(paths: list[Path], limit: int) -> None:
    tree: rt.RevTree = []
    seen: set[str] = set()
    for path in paths:
        before = rt.to_json(tree)
        result = rt.merge(tree, path.branch(), limit)
        assert rt.to_json(tree) == before  # the input is untouched
        seen |= path.revs()
        tree = result.tree
        assert not set(result.stemmed) & rt.all_revs(tree)
        assert rt.all_revs(tree) <= seen
        for leaf in rt.leaves(tree):
            assert 1 <= len(rt.ancestry(tree, leaf.rev)) <= limit
            assert rt.latest(tree, leaf.rev) == [leaf.rev]


@given(histories(), LIMITS, st.data())
def test_revs_diff_names_exactly_the_unknown_revs(
    paths: list[Path], limit: int, data: st.DataObject
) -> None:
    tree = build(paths, limit)
    candidates = sorted(set().union(*(p.revs() for p in paths)) | {"99-abc", "1-zz"})
    asked = data.draw(st.lists(st.sampled_from(candidates), max_size=6))
    diff = rt.revs_diff(tree, asked)
    known = rt.all_revs(tree)
    assert list(diff.missing) == list(dict.fromkeys(r for r in asked if r not in known))
    leaves = {leaf.rev for leaf in rt.leaves(tree)}
    assert set(diff.possible_ancestors) <= leaves
    if diff.missing:
        highest = max(rt.parse_rev(r)[0] for r in diff.missing)
        expected = {leaf for leaf in leaves if rt.parse_rev(leaf)[0] < highest}
        assert set(diff.possible_ancestors) == expected


@given(histories(), LIMITS, st.booleans())
@settings(max_examples=50)
def test_storage_form_round_trips(paths: list[Path], limit: int, compact: bool) -> None:
    tree = build(paths, limit)
    if compact:
        tree = rt.compacted(tree)
    assert rt.from_json(rt.to_json(tree)) == tree


@given(histories(), st.data())
def test_purge_removes_exactly_the_purged_leaves(paths: list[Path], data: st.DataObject) -> None:
    tree = build(paths)
    leaves = [leaf.rev for leaf in rt.leaves(tree)]
    chosen = data.draw(st.lists(st.sampled_from(leaves), unique=True))
    result, purged = rt.purge(tree, chosen)
    assert sorted(purged) == sorted(chosen)
    remaining = {leaf.rev for leaf in rt.leaves(result)} if result else set()
    assert remaining == set(leaves) - set(chosen)
