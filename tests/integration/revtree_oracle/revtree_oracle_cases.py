"""Random merge sequences, replayed through sync.revtree and through npm `pouchdb-merge`.

A case is the story of one document: a true history (every rev has one parent and one
deletion flag, as real rev ids do) from which a sequence of operations is drawn — new
edits, new roots, replicated `_revisions` paths of any length (so known paths are
re-grafted and stemmed-away revisions come back), deletions and edits on top of them,
compactions — each merged with a `revs_limit` from 1 up to 1000.

`run_oracle` sends a batch of cases to one node process (tests/js/revtree_oracle.js);
`mismatches` compares its answer for one case with ours; `shrink` reduces a failing case
to a short sequence that still fails, so it can be replayed by hand.
"""

from __future__ import annotations

import json
import random
import shutil
import string
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sync import revtree as rt

JS_DIR = Path(__file__).resolve().parents[2] / "js"
ORACLE = JS_DIR / "revtree_oracle.js"

Case = dict[str, Any]
Answer = dict[str, Any]


# --- generation ---------------------------------------------------------------------------


@dataclass
class History:
    """The true history of one document, from which every path of a case is cut."""

    rng: random.Random
    short_hashes: bool
    parent: dict[str, str | None] = field(default_factory=dict)
    deleted: dict[str, bool] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)

    def new_rev(self, parent: str | None, deleted: bool) -> str:
        pos = rt.parse_rev(parent)[0] + 1 if parent else 1
        while True:
            rev = f"{pos}-{self._hash()}"
            if rev not in self.parent:
                break
        self.parent[rev] = parent
        self.deleted[rev] = deleted
        self.children[rev] = []
        if parent:
            self.children[parent].append(rev)
        return rev

    def _hash(self) -> str:
        if self.short_hashes:
            # Short mixed-case ids make prefixes and case order decide winners.
            alphabet = string.ascii_letters + string.digits
            return "".join(self.rng.choices(alphabet, k=self.rng.randint(1, 3)))
        return f"{self.rng.getrandbits(128):032x}"

    def ancestry(self, rev: str, length: int) -> list[str]:
        """The newest `length` revisions from `rev` back, as `_revisions.ids`."""
        ids: list[str] = []
        current: str | None = rev
        while current is not None and len(ids) < length:
            ids.append(rt.parse_rev(current)[1])
            current = self.parent[current]
        return ids

    def tips(self) -> list[str]:
        return [rev for rev, kids in self.children.items() if not kids]


def _limit(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.6:
        return rng.randint(1, 6)
    if roll < 0.85:
        return rng.randint(7, 20)
    return 1000


def _path(history: History, rev: str, length: int, depth: int) -> dict[str, Any]:
    pos = rt.parse_rev(rev)[0]
    return {
        "start": pos,
        "ids": history.ancestry(rev, max(1, min(length, pos))),
        "deleted": history.deleted[rev],
        "depth": depth,
    }


def _history_length(rng: random.Random, pos: int) -> int:
    """How much `_revisions` history a path carries: often all of it, often a little."""
    roll = rng.random()
    if roll < 0.35:
        return pos
    if roll < 0.6:
        return 2
    return rng.randint(1, pos)


def _operation(rng: random.Random, history: History, sent: list[str], depth: int) -> Case:
    kind = rng.choices(["root", "edit", "chain", "regraft", "compact"], weights=[6, 40, 17, 30, 7])[
        0
    ]
    if not sent:
        kind = rng.choice(["root", "chain"])
    if kind == "compact":
        return {"compact": True}
    if kind == "regraft":
        rev = rng.choice(list(history.parent))
        return _path(history, rev, _history_length(rng, rt.parse_rev(rev)[0]), depth)
    base: str | None = None
    if kind != "root" and sent:
        tips = [rev for rev in history.tips() if rev in sent]
        base = rng.choice(tips if tips and rng.random() < 0.7 else sent)
    steps = rng.randint(2, 10) if kind == "chain" else 1
    rev = base
    for step in range(steps):
        last = step == steps - 1
        rev = history.new_rev(rev, rng.random() < (0.2 if last else 0.1))
    assert rev is not None
    sent.append(rev)
    pos = rt.parse_rev(rev)[0]
    length = 2 if kind == "edit" and rng.random() < 0.6 else _history_length(rng, pos)
    return _path(history, rev, length, depth)


def make_case(seed: int, index: int) -> Case:
    """Case `index` of the batch drawn from `seed`: the same pair always gives the same case."""
    rng = random.Random(f"revtree-oracle/{seed}/{index}")
    history = History(rng, short_hashes=rng.random() < 0.1)
    limit = _limit(rng)
    varying = rng.random() < 0.1
    sent: list[str] = []
    ops = []
    for _ in range(rng.randint(1, 24)):
        depth = _limit(rng) if varying else limit
        ops.append(_operation(rng, history, sent, depth))
    every_rev = list(history.parent)
    unknown = [f"{rng.randint(1, 30)}-{rng.getrandbits(128):032x}" for _ in range(3)]
    queries = [rng.sample(every_rev + unknown, min(len(every_rev), 4)) for _ in range(3)]
    return {
        "id": f"{seed}/{index}",
        "ops": ops,
        "revs": every_rev + unknown,
        "diff": [*queries, unknown[:1]],
    }


def make_cases(seed: int, count: int) -> Iterator[Case]:
    return (make_case(seed, index) for index in range(count))


# --- the two implementations --------------------------------------------------------------


class OracleUnavailable(RuntimeError):
    pass


def run_oracle(cases: list[Case]) -> list[Answer]:
    """pouchdb-merge's answers for a batch of cases, from one node process."""
    node = shutil.which("node")
    if node is None:
        raise OracleUnavailable("node is not installed (make test installs it)")
    package = JS_DIR / "node_modules" / "pouchdb-merge" / "package.json"
    if not package.is_file():
        raise OracleUnavailable(f"{JS_DIR}/node_modules lacks pouchdb-merge: run `make deps`")
    pinned = json.loads((JS_DIR / "package.json").read_text())["dependencies"]["pouchdb-merge"]
    installed = json.loads(package.read_text())["version"]
    if installed != pinned:
        raise OracleUnavailable(f"pouchdb-merge {installed} is installed, {pinned} is pinned")
    done = subprocess.run(
        [node, str(ORACLE)],
        input=json.dumps({"cases": cases}).encode(),
        capture_output=True,
        cwd=JS_DIR,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise OracleUnavailable(f"the oracle failed: {done.stderr.decode()[-2000:]}")
    answers: list[Answer] = json.loads(done.stdout)
    return answers


def replay(case: Case) -> tuple[rt.RevTree, list[str], list[set[str]]]:
    """Our tree after the case's operations, with each merge's outcome and stemmed revs."""
    tree: rt.RevTree = []
    outcomes: list[str] = []
    stemmed: list[set[str]] = []
    for op in case["ops"]:
        if op.get("compact"):
            tree = rt.compacted(tree)
            continue
        path = rt.path_from_revisions(op["start"], op["ids"], op["deleted"])
        result = rt.merge(tree, path, op["depth"])
        tree = result.tree
        outcomes.append(result.outcome)
        stemmed.append(set(result.stemmed))
    return tree, outcomes, stemmed


def from_pouch(tree: list[dict[str, Any]]) -> rt.RevTree:
    """A pouchdb-merge tree (`[{pos, ids: [hash, opts, children]}]`) in our form."""

    def node(item: list[Any]) -> rt.RevNode:
        rev_hash, opts, children = item
        return rt.RevNode(
            rev_hash,
            bool(opts.get("deleted")),
            opts.get("status") != "missing",
            [node(child) for child in children],
        )

    return [rt.RevBranch(branch["pos"], node(branch["ids"])) for branch in tree]


def canonical(tree: rt.RevTree) -> list[Any]:
    """Roots sorted by (pos, hash), children by hash; the deleted flag only on leaves.

    A revision that stemming left in several roots is available if any occurrence is
    (pouchdb-merge's occurrences may disagree, as they share node objects or not).
    """
    available = {
        b.pos + d: set() for b in tree for d, _ in _depths(b.node)
    }
    for b in tree:
        for d, n in _depths(b.node):
            if n.available:
                available[b.pos + d].add(n.hash)
    positions = {id(n): b.pos + d for b in tree for d, n in _depths(b.node)}

    def node(item: rt.RevNode) -> tuple[Any, ...]:
        kids = tuple(sorted(node(child) for child in item.children))
        stored = item.hash in available[positions[id(item)]]
        status = "available" if stored else "missing"
        return (item.hash, status, item.deleted if not kids else None, kids)

    return sorted((branch.pos, node(branch.node)) for branch in tree)


def has_phantom_leaf(tree: rt.RevTree) -> bool:
    """Whether pouchdb-merge left a revision as a leaf in one root while another root
    holds its children (see `sync.revtree._true_leaves`: CouchDB never does)."""
    inner = {(b.pos + d, n.hash) for b in tree for d, n in _depths(b.node) if n.children}
    ends = {(b.pos + d, n.hash) for b in tree for d, n in _depths(b.node) if not n.children}
    return bool(inner & ends)


def _depths(root: rt.RevNode) -> Iterator[tuple[int, rt.RevNode]]:
    stack = [(0, root)]
    while stack:
        depth, node = stack.pop()
        yield depth, node
        stack.extend((depth + 1, child) for child in node.children)


def answers_from_tree(tree: rt.RevTree, case: Case, answer: Answer) -> Answer:
    """Where pouchdb-merge's tree has a phantom leaf, its leaf-derived answers count that
    leaf; the CouchDB answers are derived from pouchdb-merge's own tree instead (the tree
    itself, outcomes, stemmed revs and existence are still compared as pouch gave them)."""
    leaves = rt.leaves(tree)
    fixed = dict(answer)
    fixed["winner"] = leaves[0].rev
    fixed["leaves"] = [
        {"rev": x.rev, "deleted": x.deleted, "status": "available" if x.available else "missing"}
        for x in leaves
    ]
    fixed["conflicts"] = [x.rev for x in leaves[1:] if not x.deleted]
    fixed["deleted_conflicts"] = [x.rev for x in leaves[1:] if x.deleted]
    fixed["latest"] = {
        rev: rt.latest(tree, rev)[0] for rev in answer["latest"] if rt.latest(tree, rev)
    }
    fixed["revs_diff"] = [
        {**expected, "possible_ancestors": list(rt.revs_diff(tree, revs).possible_ancestors)}
        for revs, expected in zip(case["diff"], answer["revs_diff"], strict=True)
    ]
    return fixed


def mismatches(case: Case, answer: Answer) -> list[str]:
    """Every way our answer for `case` differs from pouchdb-merge's (empty if none)."""
    if "error" in answer:
        return [f"pouchdb-merge threw: {answer['error']}"]
    tree, outcomes, stemmed = replay(case)
    theirs = from_pouch(answer["tree"])
    if has_phantom_leaf(theirs):
        answer = answers_from_tree(theirs, case, answer)
    found: list[str] = []

    def check(what: str, ours: object, expected: object) -> None:
        if ours != expected:
            found.append(f"{what}: ours {ours!r} != pouchdb-merge {expected!r}")

    check("merge outcomes", outcomes, answer["outcomes"])
    check("stemmed revs", stemmed, [set(revs) for revs in answer["stemmed"]])
    check("tree", canonical(tree), canonical(theirs))
    check("winner", rt.winning_rev(tree), answer["winner"])
    check(
        "leaves",
        {(leaf.rev, leaf.deleted, leaf.available) for leaf in rt.leaves(tree)},
        {(x["rev"], x["deleted"], x["status"] == "available") for x in answer["leaves"]},
    )
    check("conflicts", sorted(rt.conflicts(tree)), sorted(set(answer["conflicts"])))
    check(
        "deleted conflicts",
        sorted(rt.deleted_conflicts(tree)),
        sorted(set(answer["deleted_conflicts"])),
    )
    for rev in case["revs"]:
        check(f"rev_exists({rev})", rt.rev_exists(tree, rev), answer["exists"][rev])
        ours_latest = rt.latest(tree, rev)
        if rev in answer["latest"] and answer["latest"][rev] not in ours_latest:
            found.append(f"latest({rev}): pouchdb-merge's {answer['latest'][rev]} ∉ {ours_latest}")
        if rev not in answer["latest"] and ours_latest:
            found.append(f"latest({rev}): ours {ours_latest} for a rev pouchdb-merge lacks")
    for revs, expected in zip(case["diff"], answer["revs_diff"], strict=True):
        diff = rt.revs_diff(tree, revs)
        check(f"revs_diff({revs}).missing", list(diff.missing), expected["missing"])
        check(
            f"revs_diff({revs}).possible_ancestors",
            sorted(diff.possible_ancestors),
            sorted(expected["possible_ancestors"]),
        )
    return found


# --- shrinking ----------------------------------------------------------------------------


def _fails(candidates: list[Case]) -> list[bool]:
    answers = run_oracle(candidates)
    return [bool(mismatches(c, a)) for c, a in zip(candidates, answers, strict=True)]


def _with_ops(case: Case, ops: list[Any]) -> Case:
    return {**case, "ops": ops}


def _has_merge(ops: list[Any]) -> bool:
    return any(not op.get("compact") for op in ops)


def shrink(case: Case) -> Case:
    """The shortest prefix of `case` that still fails, then single operations dropped
    greedily while it keeps failing (one node process per round)."""
    ops = case["ops"]
    prefixes = [_with_ops(case, ops[:k]) for k in range(1, len(ops) + 1) if _has_merge(ops[:k])]
    failing = [c for c, bad in zip(prefixes, _fails(prefixes), strict=True) if bad]
    best = failing[0] if failing else case
    while len(best["ops"]) > 1:
        ops = best["ops"]
        shorter = [ops[:i] + ops[i + 1 :] for i in range(len(ops))]
        candidates = [_with_ops(best, o) for o in shorter if _has_merge(o)]
        bad = [c for c, b in zip(candidates, _fails(candidates), strict=True) if b]
        if not bad:
            break
        best = bad[0]
    return best
