"""Revision trees with CouchDB semantics, as pure functions.

A document's history is a forest: each root is a revision at some generation `pos`
(roots above 1 appear once old ancestors are stemmed), each node a revision hash with its
children. The rules here are CouchDB's (`couch_key_tree.erl`, `couch_doc:to_doc_info_path`)
and match PouchDB's `pouchdb-merge`, which the differential test uses as its oracle:

* `merge` grafts a linear path (a new edit, or a replicated `_revisions` history) into the
  tree; revisions already known are kept, never duplicated, and a graft never conflicts.
  The result is then stemmed so no root-to-leaf path is longer than `revs_limit`.
* The winner is the leaf that is not deleted, then has the highest generation, then the
  greatest hash: every replica picks the same winner without talking to the others.
* A rev id is `N-<32 hex>`, derived from the parent revision, the deletion flag, the
  canonical body and the attachment digests, so the same edit made twice has the same id.

Functions never mutate their arguments; `merge` works on a copy.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sync.errors import BadRequest

REV_PATTERN = re.compile(r"^([1-9][0-9]{0,15})-([0-9a-zA-Z]{1,64})$")
DEFAULT_REVS_LIMIT = 1000

MergeOutcome = Literal["new_leaf", "new_branch", "internal_node"]


@dataclass(slots=True)
class RevNode:
    """One revision: its hash, whether its body is stored, whether it is a deletion."""

    hash: str
    deleted: bool = False
    available: bool = True
    children: list[RevNode] = field(default_factory=list)


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
    """The byte form that rev ids and digests are computed over: sorted keys, no spaces."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


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
    pos, parent_hash = parse_rev(parent) if parent else (0, "")
    material = [1, deleted, pos, parent_hash, body, sorted(attachment_digests)]
    digest = hashlib.md5(canonical_json(material), usedforsecurity=False).hexdigest()
    return f"{pos + 1}-{digest}"


# --- paths --------------------------------------------------------------------------------


def path_from_revisions(
    start: int, ids: Sequence[str], deleted: bool = False
) -> RevBranch:
    """A linear branch from `_revisions` ({start, ids newest first}).

    The newest revision is the one being written (available, maybe deleted); the older ones
    are known only by id (their bodies are not here).
    """
    if start < len(ids) or not ids:
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


def _walk(tree: RevTree) -> Iterator[tuple[int, RevNode]]:
    stack = [(branch.pos, branch.node) for branch in tree]
    while stack:
        pos, node = stack.pop()
        yield pos, node
        stack.extend((pos + 1, child) for child in node.children)


def _root_to_leaf(tree: RevTree) -> list[tuple[int, list[RevNode]]]:
    """Every root-to-leaf path as (root generation, nodes oldest first)."""
    paths: list[tuple[int, list[RevNode]]] = []
    stack: list[tuple[int, RevNode, list[RevNode]]] = [
        (branch.pos, branch.node, []) for branch in tree
    ]
    while stack:
        pos, node, history = stack.pop()
        history = [*history, node]
        if not node.children:
            paths.append((pos + 1 - len(history), history))
        stack.extend((pos + 1, child, history) for child in node.children)
    paths.reverse()
    return paths


def leaves(tree: RevTree) -> list[Leaf]:
    """Every leaf, the winner first, then in CouchDB's descending order."""
    found = {
        (pos, node.hash): Leaf(pos, node.hash, node.deleted, node.available)
        for pos, node in _walk(tree)
        if not node.children
    }
    return sorted(found.values(), key=_leaf_rank, reverse=True)


def _leaf_rank(leaf: Leaf) -> tuple[bool, int, str]:
    return (not leaf.deleted, leaf.pos, leaf.hash)


def winning_leaf(tree: RevTree) -> Leaf:
    if not tree:
        raise ValueError("an empty revision tree has no winner")
    return max(
        (Leaf(pos, n.hash, n.deleted, n.available) for pos, n in _walk(tree) if not n.children),
        key=_leaf_rank,
    )


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


def find(tree: RevTree, rev: str) -> RevNode | None:
    pos, rev_hash = parse_rev(rev)
    for node_pos, node in _walk(tree):
        if node_pos == pos and node.hash == rev_hash:
            return node
    return None


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
    found: list[Leaf] = []
    for root_pos, path in _root_to_leaf(tree):
        index = pos - root_pos
        if 0 <= index < len(path) and path[index].hash == rev_hash:
            tip = path[-1]
            leaf = Leaf(root_pos + len(path) - 1, tip.hash, tip.deleted, tip.available)
            if leaf not in found:
                found.append(leaf)
    return [leaf.rev for leaf in sorted(found, key=_leaf_rank, reverse=True)]


def ancestry(tree: RevTree, rev: str) -> list[str]:
    """Hashes from `rev` back to the oldest known ancestor, newest first (`_revisions.ids`).

    Where stemming left the revision in several roots, the longest history is given.
    """
    pos, rev_hash = parse_rev(rev)
    best: list[str] = []
    for root_pos, path in _root_to_leaf(tree):
        index = pos - root_pos
        if 0 <= index < len(path) and path[index].hash == rev_hash and index + 1 > len(best):
            best = [node.hash for node in reversed(path[: index + 1])]
    return best


def revs_diff(tree: RevTree, revs: Iterable[str]) -> RevsDiff:
    """`_revs_diff` for one document: which revs are unknown, and which leaves may be
    their ancestors (leaves of a lower generation than some missing rev)."""
    known = all_revs(tree)
    missing = list(dict.fromkeys(rev for rev in revs if rev not in known))
    if not missing:
        return RevsDiff((), ())
    highest = max(parse_rev(rev)[0] for rev in missing)
    ancestors = [leaf.rev for leaf in leaves(tree) if leaf.pos < highest]
    return RevsDiff(tuple(missing), tuple(ancestors))


# --- merging ------------------------------------------------------------------------------


def _copy(node: RevNode) -> RevNode:
    return RevNode(node.hash, node.deleted, node.available, [_copy(c) for c in node.children])


def _copy_tree(tree: RevTree) -> RevTree:
    return [RevBranch(branch.pos, _copy(branch.node)) for branch in tree]


def _merge_nodes(target: RevNode, source: RevNode) -> MergeOutcome | None:
    """Fold `source` (same hash as `target`) into `target`, in place."""
    outcome: MergeOutcome | None = None
    queue = [(target, source)]
    while queue:
        into, other = queue.pop()
        into.available = into.available or other.available
        into.deleted = into.deleted or other.deleted
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
    """A node `depth` generations below `root` with hash `rev_hash`, as (parent, index)."""
    stack: list[tuple[RevNode, int]] = [(root, depth)]
    while stack:
        node, remaining = stack.pop()
        for index, child in enumerate(node.children):
            if remaining == 1:
                if child.hash == rev_hash:
                    return node, index
            else:
                stack.append((child, remaining - 1))
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
            outcome = outcome or _merge_nodes(branch.node, path.node)
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
        outcome = outcome or _merge_nodes(parent.children[index], newer.node)
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
    if depth < 1:
        raise BadRequest(f"revs_limit must be at least 1, not {depth}")
    result: RevTree = []
    cut: dict[str, None] = {}
    for root_pos, path in _root_to_leaf(tree):
        drop = max(0, len(path) - depth)
        for offset in range(drop):
            cut[f"{root_pos + offset}-{path[offset].hash}"] = None
        branch = RevBranch(root_pos + drop, _chain(path[drop:]))
        result = [branch] if not result else _graft(result, branch, expand=False)[0]
    for rev in all_revs(result):
        cut.pop(rev, None)
    return result, tuple(cut)


def _chain(nodes: Sequence[RevNode]) -> RevNode:
    """A fresh linear chain with the flags of `nodes` (oldest first)."""
    tip = nodes[-1]
    chain = RevNode(tip.hash, tip.deleted, tip.available)
    for node in reversed(nodes[:-1]):
        chain = RevNode(node.hash, node.deleted, node.available, [chain])
    return chain


def merge(tree: RevTree, path: RevBranch, revs_limit: int = DEFAULT_REVS_LIMIT) -> MergeResult:
    """Graft `path` into a copy of `tree`, then stem to `revs_limit`.

    `outcome` says what the path added: a new leaf extending a branch, a new branch
    (a conflict), or nothing but internal nodes (the revisions were already known).
    """
    grafted, outcome = _graft(_copy_tree(tree), _copy_tree([path])[0], expand=True)
    stemmed_tree, stemmed = stem(grafted, revs_limit)
    return MergeResult(stemmed_tree, outcome, stemmed)


# --- compaction and purge -----------------------------------------------------------------


def compactable(tree: RevTree) -> list[str]:
    """Revisions whose bodies compaction drops: every available non-leaf."""
    return [
        f"{pos}-{node.hash}" for pos, node in _walk(tree) if node.children and node.available
    ]


def compacted(tree: RevTree) -> RevTree:
    """A copy of `tree` with every non-leaf marked as not available."""
    copy = _copy_tree(tree)
    for _, node in _walk(copy):
        if node.children:
            node.available = False
    return copy


def purge(tree: RevTree, revs: Iterable[str]) -> tuple[RevTree, tuple[str, ...]]:
    """Remove the given leaves, and every ancestor left without descendants.

    Revisions that are not leaves are ignored, as CouchDB does. Returns the new tree
    (possibly empty) and the leaves that were purged.
    """
    targets = {parse_rev(rev) for rev in revs}
    purged: list[str] = []

    def prune(pos: int, node: RevNode) -> RevNode | None:
        if not node.children:
            if (pos, node.hash) in targets:
                purged.append(f"{pos}-{node.hash}")
                return None
            return node
        kept = [c for c in (prune(pos + 1, child) for child in node.children) if c is not None]
        if not kept:
            return None
        return RevNode(node.hash, node.deleted, node.available, kept)

    result = []
    for branch in tree:
        node = prune(branch.pos, _copy(branch.node))
        if node is not None:
            result.append(RevBranch(branch.pos, node))
    return result, tuple(purged)


# --- storage form -------------------------------------------------------------------------

_DELETED = 1
_MISSING = 2


def to_json(tree: RevTree) -> list[Any]:
    """A compact JSON form: `[[pos, node], …]`, node = `[hash, flags, [children…]]`."""

    def encode(node: RevNode) -> list[Any]:
        flags = (_DELETED if node.deleted else 0) | (0 if node.available else _MISSING)
        return [node.hash, flags, [encode(child) for child in node.children]]

    return [[branch.pos, encode(branch.node)] for branch in tree]


def from_json(data: Sequence[Any]) -> RevTree:
    def decode(item: Sequence[Any]) -> RevNode:
        rev_hash, flags, children = item
        return RevNode(
            str(rev_hash),
            bool(flags & _DELETED),
            not flags & _MISSING,
            [decode(child) for child in children],
        )

    return [RevBranch(int(pos), decode(node)) for pos, node in data]
