"""sync.revtree answers as npm `pouchdb-merge` (9.0.0, pinned in tests/js/package-lock.json)
does, on thousands of generated merge sequences: winner, leaves with their flags, conflicts,
deleted conflicts, the stemmed tree, each merge's outcome and stemmed revs, rev existence,
`latest` and `_revs_diff`.

Replay one case: `REVTREE_ORACLE_SEED=<seed> REVTREE_ORACLE_CASES=<index+1>`, or paste the
printed case into `check(case)` below.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
import revtree_oracle_cases as cases
from revtree_oracle_cases import Case

from sync import revtree as rt

SEED = int(os.environ.get("REVTREE_ORACLE_SEED", "20261127"))
COUNT = int(os.environ.get("REVTREE_ORACLE_CASES", "5000"))


def oracle(batch: list[Case]) -> list[dict[str, Any]]:
    try:
        return cases.run_oracle(batch)
    except cases.OracleUnavailable as error:
        pytest.fail(str(error))


def check(case: Case) -> None:
    """Fail with the shrunk case if ours and pouchdb-merge's answers differ."""
    [answer] = oracle([case])
    if cases.mismatches(case, answer):
        report(case)


def report(case: Case) -> None:
    small = cases.shrink(case)
    [answer] = oracle([small])
    found = cases.mismatches(small, answer)
    pytest.fail(
        f"case {case['id']} (seed {SEED}) differs from pouchdb-merge; shrunk to "
        f"{len(small['ops'])} of {len(case['ops'])} operations:\n"
        + json.dumps(small)
        + "\n"
        + "\n".join(found[:20]),
        pytrace=False,
    )


def test_thousands_of_generated_trees_match_pouchdb_merge() -> None:
    started = time.perf_counter()
    batch = list(cases.make_cases(SEED, COUNT))
    answers = oracle(batch)
    assert len(answers) == len(batch)
    merges = 0
    for case, answer in zip(batch, answers, strict=True):
        assert answer["id"] == case["id"]
        if cases.mismatches(case, answer):
            report(case)
        merges += len(answer["outcomes"])
    elapsed = time.perf_counter() - started
    print(f"\n{len(batch)} cases, {merges} merges compared in {elapsed:.1f} s")
    if "REVTREE_ORACLE_CASES" not in os.environ:
        assert len(batch) >= 5000


def test_generated_cases_cover_what_the_oracle_must_see() -> None:
    """The generator reaches every situation the comparison is meant to exercise."""
    batch = list(cases.make_cases(SEED, 1000))
    seen: dict[str, int] = dict.fromkeys(
        [
            "new_leaf",
            "new_branch",
            "internal_node",
            "stemmed",
            "several roots",
            "deleted leaf",
            "deleted winner",
            "deleted internal",
            "conflicts",
            "compacted",
            "old revision back",
        ],
        0,
    )
    for case in batch:
        tree, outcomes, stemmed = cases.replay(case)
        for outcome in outcomes:
            seen[outcome] += 1
        seen["stemmed"] += any(stemmed)
        seen["several roots"] += len(tree) > 1
        seen["deleted leaf"] += any(leaf.deleted for leaf in rt.leaves(tree))
        seen["deleted winner"] += rt.is_deleted(tree)
        seen["deleted internal"] += any(
            node.deleted and node.children for _, node in rt._walk(tree)
        )
        seen["conflicts"] += bool(rt.conflicts(tree))
        seen["compacted"] += any(op.get("compact") for op in case["ops"])
        gone = set().union(*stemmed) if stemmed else set()
        seen["old revision back"] += bool(gone & rt.all_revs(tree))
    assert all(count >= 10 for count in seen.values()), seen


@pytest.mark.parametrize(
    "mutant",
    ["hash order", "stem one short", "no deleted rule"],
)
def test_the_comparison_catches_a_wrong_implementation(
    mutant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deliberately broken revtree must be caught within a few hundred cases."""
    if mutant == "hash order":
        monkeypatch.setattr(
            rt,
            "_leaf_rank",
            lambda leaf: (
                not leaf.deleted,
                leaf.pos,
                "".join(chr(255 - ord(c)) for c in leaf.hash),
            ),
        )
    elif mutant == "no deleted rule":
        monkeypatch.setattr(rt, "_leaf_rank", lambda leaf: (leaf.pos, leaf.hash))
    else:
        real_stem = rt._stem
        monkeypatch.setattr(rt, "_stem", lambda tree, depth: real_stem(tree, max(1, depth - 1)))
    batch = list(cases.make_cases(SEED, 300))
    answers = oracle(batch)
    failing = sum(bool(cases.mismatches(c, a)) for c, a in zip(batch, answers, strict=True))
    assert failing > 0


def test_a_missing_oracle_fails_rather_than_skips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cases, "JS_DIR", tmp_path)
    with pytest.raises(pytest.fail.Exception, match="node_modules lacks pouchdb-merge"):
        oracle([cases.make_case(SEED, 0)])
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match="node is not installed"):
        oracle([cases.make_case(SEED, 0)])
