"""Revision trees with CouchDB semantics, as pure functions.

A document's history is a forest: each root is a revision at some generation `pos`
(roots above 1 appear once old ancestors are stemmed), each node a revision hash with its
children. The rules here are CouchDB's (`couch_key_tree.erl`, `couch_doc:to_doc_info_path`)
and match PouchDB's `pouchdb-merge` step for step; a differential test replays thousands
of generated histories through both (tests/integration/revtree_oracle/):

* `merge` grafts a linear path (a new edit, or a replicated `_revisions` history) into the
  tree; revisions already known are kept, and a graft never conflicts. The result is then
  stemmed so no root-to-leaf path is longer than `revs_limit`. As in pouchdb-merge,
  stemming a branched tree can leave one revision in two roots; every query here counts
  such a revision once.
* The winner is the leaf that is not deleted, then has the highest generation, then the
  greatest hash: every replica picks the same winner without talking to the others.
* A rev id is `N-<32 hex>`, derived from the parent revision, the deletion flag, the
  canonical body and the attachment digests, so the same edit made twice has the same id.

Where pouchdb-merge and CouchDB differ, CouchDB wins: a revision's deletion flag survives a
merge from either side (pouchdb-merge may drop it on an internal node), `purge` removes
ancestors left without descendants, `revs_diff` gives `possible_ancestors`.

Functions never mutate their arguments; `merge` works on a copy. Nothing recurses, so a
tree `revs_limit` (1000) deep is fine, and `to_json` is flat for the same reason.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Literal

import msgspec

from sync.errors import BadRequest

_canonical_encoder = msgspec.json.Encoder(order="sorted")
# \Z, not $: `$` would accept a trailing newline.
REV_PATTERN = re.compile(r"^([1-9][0-9]{0,15})-([0-9a-zA-Z]{1,64})\Z")
HASH_PATTERN = re.compile(r"^[0-9a-zA-Z]{1,64}\Z")
DEFAULT_REVS_LIMIT = 1000
# canonical_json([1, deleted, 0, ""]): the start of a first revision's md5 input.
_FIRST_REV_HEADS = {False: b'[1,false,0,""]', True: b'[1,true,0,""]'}

MergeOutcome = Literal["new_leaf", "new_branch", "internal_node"]


@dataclass(slots=True, eq=False, repr=False)
class RevNode:
    """One revision: its hash, whether its body is stored, whether it is a deletion.

    Equality and repr are written out because the generated ones recurse, and a tree can
    be deeper than Python's recursion limit.
    """

    hash: str
    deleted: bool = False
    available: bool = True
    children: list[RevNode] = field(default_factory=list)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RevNode):
            return NotImplemented
        pairs = [(self, other)]
        while pairs:
            a, b = pairs.pop()
            if (a.hash, a.deleted, a.available, len(a.children)) != (
                b.hash,
                b.deleted,
                b.available,
                len(b.children),
            ):
                return False
            pairs.extend(zip(a.children, b.children, strict=True))
        return True

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        kids = [child.hash for child in self.children]
        return (
            f"RevNode({self.hash!r}, deleted={self.deleted}, available={self.available}, "
            f"children={kids})"
        )


@dataclass(slots=True)
class RevBranch:
    """A root of the forest: the node at generation `pos` and everything below it."""

    pos: int
    node: RevNode


RevTree = list[RevBranch]


@dataclass(frozen=True, slots=True)
class Leaf:
    pos: int
    hash: str
    deleted: bool
    available: bool

    @property
    def rev(self) -> str:
        return f"{self.pos}-{self.hash}"


@dataclass(frozen=True, slots=True)
class MergeResult:
    tree: RevTree
    outcome: MergeOutcome
    stemmed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RevsDiff:
    missing: tuple[str, ...]
    possible_ancestors: tuple[str, ...]


# --- rev ids ------------------------------------------------------------------------------


def parse_rev(rev: object) -> tuple[int, str]:
    """Split `N-hash` into generation and hash, or raise BadRequest naming the rev."""
    if not isinstance(rev, str):
        raise BadRequest(f"Invalid rev format: {rev!r} is not a string")
    match = REV_PATTERN.match(rev)
    if match is None:
        raise BadRequest(f"Invalid rev format: {rev!r} (expected N-hash)")
    return int(match.group(1)), match.group(2)


def canonical_json(value: Any) -> bytes:
    """The byte form that rev ids and digests are computed over: sorted keys, no spaces,
    UTF-8. msgspec writes it ten times faster than `json.dumps(sort_keys=True)`, which
    matters on every write. NaN and infinities are not JSON: ValueError.
    """
    data = _canonical_encoder.encode(value)
    if b"null" in data and _has_non_finite(value):
        raise ValueError("Out of range float values are not JSON compliant")
    return data


def _has_non_finite(value: Any) -> bool:
    """Whether a NaN or an infinity hides in `value` (msgspec would write it as null)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


def new_rev_id(
    parent: str | None,
    deleted: bool,
    body: Mapping[str, Any],
    attachment_digests: Iterable[tuple[str, str]] = (),
) -> str:
    """The deterministic id of the revision made by writing `body` on top of `parent`.

    `body` is the document without its `_`-prefixed fields; `attachment_digests` holds
    (name, digest) pairs. Version 1 of the algorithm: md5 over canonical JSON.
    """
    return rev_id_for_canonical(parent, deleted, canonical_json(body), attachment_digests)


def rev_id_for_canonical(
    parent: str | None,
    deleted: bool,
    canonical_body: bytes,
    attachment_digests: Iterable[tuple[str, str]] = (),
) -> str:
    """`new_rev_id` for a body already in `canonical_json` form, so a writer that keeps
    those bytes (to store them) encodes each body once. The md5 input is, byte for byte,
    `canonical_json([1, deleted, pos, parent_hash, body, sorted(digests)])`."""
    if parent:
        pos, parent_hash = parse_rev(parent)
        head = _canonical_encoder.encode([1, deleted, pos, parent_hash])
    else:  # a first revision: the head is one of two constants
        pos, head = 0, _FIRST_REV_HEADS[deleted]
    digests = sorted(attachment_digests)
    tail = _canonical_encoder.encode(digests) if digests else b"[]"
    material = b"".join((head[:-1], b",", canonical_body, b",", tail, b"]"))
    digest = hashlib.md5(material, usedforsecurity=False).hexdigest()
    return f"{pos + 1}-{digest}"


# --- paths --------------------------------------------------------------------------------


def path_from_revisions(start: int, ids: Sequence[str], deleted: bool = False) -> RevBranch:
    """A linear branch from `_revisions` ({start, ids newest first}).

    The newest revision is the one being written (available, maybe deleted); the older ones
    are known only by id (their bodies are not here). BadRequest names what is malformed.
    """
    if isinstance(start, bool) or not isinstance(start, int):
        raise BadRequest(f"_revisions start must be an integer, not {start!r}")
    if isinstance(ids, str) or not isinstance(ids, Sequence) or not ids:
        raise BadRequest(f"_revisions ids must be a non-empty list, not {ids!r}")
    for rev_hash in ids:
        if not isinstance(rev_hash, str) or not HASH_PATTERN.match(rev_hash):
            raise BadRequest(f"_revisions ids holds an invalid revision id: {rev_hash!r}")
    if start < len(ids):
        raise BadRequest(f"_revisions start {start} is too small for {len(ids)} ids")
    node = RevNode(ids[0], deleted=deleted, available=True)
    for rev_hash in ids[1:]:
        node = RevNode(rev_hash, available=False, children=[node])
    return RevBranch(start - len(ids) + 1, node)


def path_for_edit(parent: str | None, rev: str, deleted: bool) -> RevBranch:
    """The branch for a normal edit: `rev` as the child of `parent` (or a new root)."""
    pos, rev_hash = parse_rev(rev)
    if parent is None:
        return path_from_revisions(pos, [rev_hash], deleted)
    parent_pos, parent_hash = parse_rev(parent)
    if parent_pos != pos - 1:
        raise BadRequest(f"rev {rev} cannot follow {parent}")
    return path_from_revisions(pos, [rev_hash, parent_hash], deleted)


# --- traversal ----------------------------------------------------------------------------
# Every walk is iterative, since a tree may be revs_limit (1000) deep, beyond Python's
# recursion limit; and each runs down single-child chains in a tight inner loop, since most
# of a real tree is one long chain and these walks run on every write.


def _walk(tree: RevTree) -> Iterator[tuple[int, RevNode]]:
    """Every (generation, node), roots and children in order, depth first."""
    stack = [(branch.pos, branch.node) for branch in reversed(tree)]
    while stack:
        pos, node = stack.pop()
        yield pos, node
        children = node.children
        while len(children) == 1:
            pos += 1
            node = children[0]
            yield pos, node
            children = node.children
        if children:
            below = pos + 1
            stack.extend([(below, child) for child in reversed(children)])


def _root_to_leaf(tree: RevTree) -> list[tuple[int, list[RevNode]]]:
    """Every root-to-leaf path as (root generation, nodes oldest first), leaves in order.

    The order is pouchdb-merge's `rootToLeaf`, which decides the order `stem` re-merges in.
    """
    paths: list[tuple[int, list[RevNode]]] = []
    for branch in tree:
        trail: list[RevNode] = []
        stack = [(0, branch.node)]
        while stack:
            depth, node = stack.pop()
            del trail[depth:]
            trail.append(node)
            children = node.children
            while len(children) == 1:
                node = children[0]
                trail.append(node)
                children = node.children
            if children:
                below = len(trail)
                stack.extend([(below, child) for child in reversed(children)])
            else:
                paths.append((branch.pos, trail.copy()))
    return paths


def _leaf_nodes(tree: RevTree) -> Iterator[tuple[int, RevNode]]:
    """Every (generation, leaf), in order."""
    stack = [(branch.pos, branch.node) for branch in reversed(tree)]
    while stack:
        pos, node = stack.pop()
        children = node.children
        while len(children) == 1:
            pos += 1
            node = children[0]
            children = node.children
        if children:
            below = pos + 1
            stack.extend([(below, child) for child in reversed(children)])
        else:
            yield pos, node


def _leaves(tree: RevTree) -> dict[tuple[int, str], Leaf]:
    """The leaves by (pos, hash): a leaf that stemming left in two roots counts once."""
    return _true_leaves(tree, _leaf_nodes(tree))


def _true_leaves(
    tree: RevTree, candidates: Iterable[tuple[int, RevNode]]
) -> dict[tuple[int, str], Leaf]:
    """The candidates that are leaves of the whole tree, by (pos, hash).

    Once stemming has split a history into two roots, pouchdb-merge may graft a path into
    one of them only, ending there in a revision the other root holds with children: that
    "phantom" leaf is not a leaf (CouchDB's `merge_one` grafts into every overlapping
    root, so it never has one), and counting it would invent a conflict.
    """
    found = {
        (pos, node.hash): Leaf(pos, node.hash, node.deleted, node.available)
        for pos, node in candidates
    }
    if len(tree) > 1:
        for pos, node in _walk(tree):
            if node.children:
                found.pop((pos, node.hash), None)
    return found


def leaves(tree: RevTree) -> list[Leaf]:
    """Every leaf, the winner first, then in CouchDB's descending order."""
    return sorted(_leaves(tree).values(), key=_leaf_rank, reverse=True)


def _leaf_rank(leaf: Leaf) -> tuple[bool, int, str]:
    return (not leaf.deleted, leaf.pos, leaf.hash)


def winning_leaf(tree: RevTree) -> Leaf:
    if not tree:
        raise ValueError("an empty revision tree has no winner")
    return max(_leaves(tree).values(), key=_leaf_rank)


def winning_rev(tree: RevTree) -> str:
    return winning_leaf(tree).rev


def is_deleted(tree: RevTree) -> bool:
    return winning_leaf(tree).deleted


def conflicts(tree: RevTree) -> list[str]:
    """`_conflicts`: the leaves other than the winner that are not deleted."""
    return [leaf.rev for leaf in leaves(tree)[1:] if not leaf.deleted]


def deleted_conflicts(tree: RevTree) -> list[str]:
    """`_deleted_conflicts`: the deleted leaves other than the winner."""
    return [leaf.rev for leaf in leaves(tree)[1:] if leaf.deleted]


def _occurrences(tree: RevTree, pos: int, rev_hash: str) -> Iterator[RevNode]:
    """Every node that is revision `pos-rev_hash` (stemming may leave one in two roots)."""
    stack = [(branch.pos, branch.node) for branch in reversed(tree) if branch.pos <= pos]
    while stack:
        node_pos, node = stack.pop()
        while node_pos < pos and len(node.children) == 1:
            node_pos += 1
            node = node.children[0]
        if node_pos == pos:
            if node.hash == rev_hash:
                yield node
            continue
        below = node_pos + 1
        stack.extend([(below, child) for child in reversed(node.children)])


def find(tree: RevTree, rev: str) -> RevNode | None:
    pos, rev_hash = parse_rev(rev)
    return next(_occurrences(tree, pos, rev_hash), None)


def rev_exists(tree: RevTree, rev: str) -> bool:
    return find(tree, rev) is not None


def all_revs(tree: RevTree) -> set[str]:
    return {f"{pos}-{node.hash}" for pos, node in _walk(tree)}


def latest(tree: RevTree, rev: str) -> list[str]:
    """The leaves that descend from `rev` (itself if it is a leaf), winner-ordered.

    This is CouchDB's `latest=true`: the newest revisions on the branches through `rev`.
    Empty if `rev` is unknown.
    """
    pos, rev_hash = parse_rev(rev)
    below = [
        leaf
        for node in _occurrences(tree, pos, rev_hash)
        for leaf in _leaf_nodes([RevBranch(pos, node)])
    ]
    found = _true_leaves(tree, below)
    return [leaf.rev for leaf in sorted(found.values(), key=_leaf_rank, reverse=True)]


def ancestry(tree: RevTree, rev: str) -> list[str]:
    """Hashes from `rev` back to the oldest known ancestor, newest first (`_revisions.ids`).

    Where stemming left the revision in several roots, the longest history is given.
    Empty if `rev` is unknown.
    """
    pos, rev_hash = parse_rev(rev)
    best: list[RevNode] = []
    for branch in tree:
        target = pos - branch.pos
        if target < len(best):
            continue
        trail: list[RevNode] = []
        stack = [(0, branch.node)]
        while stack:
            depth, node = stack.pop()
            del trail[depth:]
            trail.append(node)
            if depth < target:
                stack.extend([(depth + 1, child) for child in reversed(node.children)])
            elif node.hash == rev_hash:
                best = trail.copy()
                break
    return [node.hash for node in reversed(best)]


def revs_diff(tree: RevTree, revs: Iterable[str]) -> RevsDiff:
    """`_revs_diff` for one document: which revs are unknown, and which leaves may be
    their ancestors (CouchDB's `possible_ancestors`: leaves of a lower generation than
    some missing rev). A rev known only by id (its body missing) is not missing."""
    wanted = {rev: parse_rev(rev) for rev in revs}
    known = {(pos, node.hash) for pos, node in _walk(tree)}
    missing = [rev for rev, key in wanted.items() if key not in known]
    if not missing:
        return RevsDiff((), ())
    highest = max(wanted[rev][0] for rev in missing)
    ancestors = [leaf.rev for leaf in leaves(tree) if leaf.pos < highest]
    return RevsDiff(tuple(missing), tuple(ancestors))


# --- merging ------------------------------------------------------------------------------
# pouchdb-merge's doMerge / mergeTree / stem, step for step, on trees this module owns.


def _copy(node: RevNode) -> RevNode:
    top = RevNode(node.hash, node.deleted, node.available, [])
    stack = [(node, top)]
    while stack:
        source, copy = stack.pop()
        children = source.children
        while len(children) == 1:
            source = children[0]
            twin = RevNode(source.hash, source.deleted, source.available, [])
            copy.children.append(twin)
            copy = twin
            children = source.children
        for child in children:
            twin = RevNode(child.hash, child.deleted, child.available, [])
            copy.children.append(twin)
            stack.append((child, twin))
    return top


def _copy_tree(tree: RevTree) -> RevTree:
    return [RevBranch(branch.pos, _copy(branch.node)) for branch in tree]


def _merge_nodes(target: RevNode, source: RevNode) -> MergeOutcome | None:
    """Fold `source` (same hash as `target`) into `target`, in place.

    A revision known with its body anywhere is available; a deletion flag from either side
    is kept (pouchdb-merge keeps only `target`'s, which differs on internal nodes only: a
    path's ancestors never carry the flag, CouchDB keeps the stored revision's).
    """
    outcome: MergeOutcome | None = None
    queue = [(target, source)]
    while queue:
        into, other = queue.pop()
        while True:
            into.available = into.available or other.available
            into.deleted = into.deleted or other.deleted
            mine, theirs = into.children, other.children
            # Down a shared chain directly: what the queue would do, one pair at a time.
            if len(mine) == 1 and len(theirs) == 1 and mine[0].hash == theirs[0].hash:
                into, other = mine[0], theirs[0]
                continue
            break
        for child in other.children:
            if not into.children:
                outcome = "new_leaf"
                into.children.append(child)
                continue
            same = [c for c in into.children if c.hash == child.hash]
            if same:
                queue.extend((match, child) for match in same)
            else:
                outcome = "new_branch"
                into.children.append(child)
                into.children.sort(key=lambda c: c.hash)
    return outcome


def _find_at_depth(root: RevNode, depth: int, rev_hash: str) -> tuple[RevNode, int] | None:
    """The node `depth` (> 0) generations below `root` with hash `rev_hash`, as
    (parent, index); the first one in pouchdb-merge's search order if there are several."""
    stack: list[tuple[RevNode, RevNode | None, int, int]] = [(root, None, 0, depth)]
    while stack:
        node, parent, index, remaining = stack.pop()
        while remaining > 0 and len(node.children) == 1:
            parent, index, node = node, 0, node.children[0]
            remaining -= 1
        if remaining == 0:
            if parent is not None and node.hash == rev_hash:
                return parent, index
            continue
        stack.extend([(child, node, i, remaining - 1) for i, child in enumerate(node.children)])
    return None


def _graft(tree: RevTree, path: RevBranch, expand: bool) -> tuple[RevTree, MergeOutcome]:
    """Merge `path` into `tree` (both owned by the caller; nodes may be shared)."""
    if not tree:
        return [path], "new_leaf"
    result: RevTree = []
    outcome: MergeOutcome | None = None
    merged = False
    for branch in tree:
        if branch.pos == path.pos and branch.node.hash == path.node.hash:
            # Merge first, then keep the first outcome: the path may graft into several roots.
            grafted = _merge_nodes(branch.node, path.node)
            outcome = outcome or grafted
            result.append(branch)
            merged = True
            continue
        if not expand:
            result.append(branch)
            continue
        older, newer = (branch, path) if branch.pos < path.pos else (path, branch)
        diff = newer.pos - older.pos
        spot = _find_at_depth(older.node, diff, newer.node.hash) if diff > 0 else None
        if spot is None:
            result.append(branch)
            continue
        parent, index = spot
        grafted = _merge_nodes(parent.children[index], newer.node)
        outcome = outcome or grafted
        result.append(RevBranch(older.pos, older.node))
        merged = True
    if not merged:
        result.append(path)
    result.sort(key=lambda b: b.pos)
    return result, outcome or "internal_node"


def stem(tree: RevTree, depth: int) -> tuple[RevTree, tuple[str, ...]]:
    """Cut every root-to-leaf path to its newest `depth` revisions.

    Returns the new tree and the revisions that no longer appear anywhere in it.
    """
    _check_limit(depth)
    return _stem(_copy_tree(tree), depth)


def _check_limit(depth: int) -> None:
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise BadRequest(f"revs_limit must be an integer of at least 1, not {depth!r}")


def _stem(tree: RevTree, depth: int) -> tuple[RevTree, tuple[str, ...]]:
    """`stem` on a tree the caller owns: it may be returned, or its nodes reused."""
    paths = _root_to_leaf(tree)
    longest = max((len(nodes) for _, nodes in paths), default=0)
    if longest <= depth and _is_canonical(tree):
        # Re-merging the paths would rebuild this very tree: skip the work.
        return tree, ()
    if len(paths) == 1:
        # One linear path (the common document): cut its top off in place.
        root_pos, nodes = paths[0]
        drop = max(0, len(nodes) - depth)
        cut = tuple(f"{root_pos + i}-{nodes[i].hash}" for i in range(drop))
        return [RevBranch(root_pos + drop, nodes[drop])], cut
    result: RevTree = []
    dropped: dict[tuple[int, str], None] = {}
    for root_pos, nodes in paths:
        drop = max(0, len(nodes) - depth)
        for offset in range(drop):
            dropped[(root_pos + offset, nodes[offset].hash)] = None
        branch = RevBranch(root_pos + drop, _chain(nodes[drop:]))
        result = [branch] if not result else _graft(result, branch, expand=False)[0]
    if dropped:
        # A revision cut from one path may live on in another.
        for pos, node in _walk(result):
            dropped.pop((pos, node.hash), None)
    return result, tuple(f"{pos}-{rev_hash}" for pos, rev_hash in dropped)


def _is_canonical(tree: RevTree) -> bool:
    """Roots in generation order and distinct, children in hash order and distinct: the
    shape `_stem`'s re-merge produces."""
    roots = [(branch.pos, branch.node.hash) for branch in tree]
    if len(set(roots)) != len(roots) or any(a[0] > b[0] for a, b in pairwise(roots)):
        return False
    stack = [branch.node for branch in tree]
    while stack:
        node = stack.pop()
        while len(node.children) == 1:
            node = node.children[0]
        kids = node.children
        if any(a.hash >= b.hash for a, b in pairwise(kids)):
            return False
        stack.extend(kids)
    return True


def _chain(nodes: Sequence[RevNode]) -> RevNode:
    """A fresh linear chain with the flags of `nodes` (oldest first)."""
    tip = nodes[-1]
    chain = RevNode(tip.hash, tip.deleted, tip.available)
    for node in reversed(nodes[:-1]):
        chain = RevNode(node.hash, node.deleted, node.available, [chain])
    return chain


def merge(tree: RevTree, path: RevBranch, revs_limit: int = DEFAULT_REVS_LIMIT) -> MergeResult:
    """Graft `path` into a copy of `tree`, then stem to `revs_limit`.

    `outcome` is pouchdb-merge's: "new_leaf" (the path extended a leaf, or the tree was
    empty), "new_branch" (it forked a revision that had children: a conflict), else
    "internal_node" — the revisions were already known, *or* the path matched nothing and
    became a root of its own (a second creation of the document, or a history whose
    ancestors were all stemmed away). `stemmed` lists the revisions the limit removed.
    """
    _check_limit(revs_limit)
    grafted, outcome = _graft(_copy_tree(tree), _copy_tree([path])[0], expand=True)
    stemmed_tree, stemmed = _stem(grafted, revs_limit)
    return MergeResult(stemmed_tree, outcome, stemmed)



# --- compaction and purge -----------------------------------------------------------------


def compactable(tree: RevTree) -> list[str]:
    """Revisions whose bodies compaction drops: every available non-leaf."""
    return [f"{pos}-{node.hash}" for pos, node in _walk(tree) if node.children and node.available]


def compacted(tree: RevTree) -> RevTree:
    """A copy of `tree` with every non-leaf marked as not available."""
    copy = _copy_tree(tree)
    for _, node in _walk(copy):
        if node.children:
            node.available = False
    return copy


def purge(tree: RevTree, revs: Iterable[str]) -> tuple[RevTree, tuple[str, ...]]:
    """Remove the given leaves, and every ancestor left without descendants.

    Revisions that are not leaves are ignored, as CouchDB does (`couch_key_tree:
    remove_leafs`; pouchdb-merge's `removeLeafFromTree` keeps the emptied parents, CouchDB
    does not). A revision dropped as an emptied ancestor is dropped wherever else it
    stands childless (a stemmed root repeating part of another root), so no phantom
    becomes a leaf. Returns the new tree (possibly empty) and the leaves that were purged.
    """
    wanted = {parse_rev(rev) for rev in revs}
    leaves_before = {(pos, node.hash) for pos, node in _walk(tree) if not node.children}
    targets = wanted & leaves_before
    result = _copy_tree(tree)
    while True:
        result, dropped = _drop_leaves(result, targets)
        if dropped <= targets:
            break
        targets |= dropped
    return result, tuple(f"{pos}-{rev_hash}" for pos, rev_hash in sorted(wanted & targets))


def _drop_leaves(tree: RevTree, targets: set[tuple[int, str]]
                 ) -> tuple[RevTree, set[tuple[int, str]]]:
    """`tree` (modified in place) without the childless `targets` and the ancestors they
    leave empty; with the revisions dropped."""
    dropped: set[tuple[int, str]] = set()
    gone: set[int] = set()
    # Children come after their parent in `_walk`, so reversed they come before it.
    for pos, node in reversed(list(_walk(tree))):
        if node.children:
            node.children = [child for child in node.children if id(child) not in gone]
            if not node.children:
                gone.add(id(node))
                dropped.add((pos, node.hash))
        elif (pos, node.hash) in targets:
            gone.add(id(node))
            dropped.add((pos, node.hash))
    return [branch for branch in tree if id(branch.node) not in gone], dropped


# --- storage form -------------------------------------------------------------------------
# Flat, so that no JSON encoder recurses once per generation (a 1000-deep nested list is
# beyond json's and msgspec's recursion limits).

_FORMAT = 2
_DELETED = 1
_MISSING = 2


def to_json(tree: RevTree) -> list[Any]:
    """`[2, [pos, hash, flags, n_children, hash, flags, n_children, …], …]`: the format
    version, then each root's nodes in depth-first order with their number of children."""
    encoded: list[Any] = [_FORMAT]
    for branch in tree:
        flat: list[Any] = [branch.pos]
        stack = [branch.node]
        while stack:
            node = stack.pop()
            while True:
                kids = node.children
                flags = (_DELETED if node.deleted else 0) | (0 if node.available else _MISSING)
                flat += (node.hash, flags, len(kids))
                if len(kids) != 1:
                    break
                node = kids[0]
            stack.extend(reversed(kids))
        encoded.append(flat)
    return encoded


def from_json(data: Sequence[Any]) -> RevTree:
    """The tree `to_json` gave (or the nested form of format 1); ValueError if corrupt."""
    try:
        if data and data[0] == _FORMAT:
            return [_decode_flat(flat) for flat in data[1:]]
        return [RevBranch(int(pos), _decode_nested(node)) for pos, node in data]
    except (TypeError, ValueError, IndexError) as error:
        raise ValueError(f"corrupt revision tree: {error}") from error


def _node(rev_hash: Any, flags: Any) -> RevNode:
    if not isinstance(rev_hash, str) or not isinstance(flags, int):
        raise ValueError(f"bad node {rev_hash!r}, {flags!r}")
    return RevNode(rev_hash, bool(flags & _DELETED), not flags & _MISSING)


def _decode_flat(flat: Sequence[Any]) -> RevBranch:
    pos, cells = int(flat[0]), flat[1:]
    hashes, flags, counts = cells[0::3], cells[1::3], cells[2::3]
    if not hashes or len(cells) % 3:
        raise ValueError(f"a root at {pos} has {len(cells)} cells, not 3 per node")
    if set(map(type, hashes)) != {str} or not set(map(type, (*flags, *counts))) <= {int}:
        raise ValueError(f"a root at {pos} holds a node that is not [hash, flags, count]")
    nodes = [
        RevNode(h, bool(f & _DELETED), not f & _MISSING, [])
        for h, f in zip(hashes, flags, strict=True)
    ]
    # Depth-first order: each node follows its parent, or the subtree of an older sibling.
    waiting: list[tuple[RevNode, int]] = []  # parents with children still to come
    parent, wanted = nodes[0], counts[0]
    for node, count in zip(nodes[1:], counts[1:], strict=True):
        if not wanted:
            raise ValueError(f"a root at {pos} has trailing nodes")
        parent.children.append(node)
        if wanted > 1:
            waiting.append((parent, wanted - 1))
        parent, wanted = (node, count) if count else waiting.pop() if waiting else (node, 0)
    if wanted or waiting:
        raise ValueError(f"a root at {pos} is truncated")
    return RevBranch(pos, nodes[0])


def _decode_nested(item: Sequence[Any]) -> RevNode:
    root = _node(item[0], item[1])
    stack = [(root, item[2])]
    while stack:
        node, children = stack.pop()
        for child in children:
            decoded = _node(child[0], child[1])
            node.children.append(decoded)
            stack.append((decoded, child[2]))
    return root
