"""The driver runs a `Fork`'s branches concurrently, but never holds more attachment
bytes at once than its budget: a branch waits until its weight fits, a branch heavier
than the whole budget runs alone, and every branch still runs once, results in order."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from sync.protocol.session import Call, Fork
from sync.replicator import ByteBudget, drive


class _Recorder:
    """A peer whose one operation notes how many bytes are held while it runs."""

    label = "recorder"

    def __init__(self, budget: ByteBudget) -> None:
        self.budget = budget
        self.held_at: dict[str, int] = {}
        self._lock = threading.Lock()

    def work(self, name: str) -> str:
        with self._lock:
            self.held_at[name] = self.budget.held
        time.sleep(0.01)  # long enough for the other threads to pile up
        return name


def _branch(name: str):
    answer = yield Call("source", "work", (name,))
    return answer


def _forking(weights: tuple[int, ...]):
    names = tuple(f"b{i}" for i in range(len(weights)))
    results = yield Fork(tuple(_branch(n) for n in names), weights=weights)
    return results


@pytest.mark.parametrize(
    ("weights", "limit", "most"),
    [
        ((4,) * 12, 10, 8),  # two groups of 4 fit in 10, a third waits
        ((1,) * 6, 100, 6),  # everything fits
    ],
)
def test_branches_hold_at_most_the_budget(weights, limit, most):
    budget = ByteBudget(limit)
    peer = _Recorder(budget)
    with ThreadPoolExecutor(8) as pool:
        results = drive(_forking(weights), {"source": peer}, pool, budget)
    assert results == [f"b{i}" for i in range(len(weights))]
    assert len(peer.held_at) == len(weights)
    assert all(peer.held_at[f"b{i}"] >= w for i, w in enumerate(weights))  # held while running
    assert max(peer.held_at.values()) <= most
    assert budget.held == 0


def test_a_branch_heavier_than_the_budget_runs_alone():
    budget = ByteBudget(10)
    peer = _Recorder(budget)
    with ThreadPoolExecutor(4) as pool:
        drive(_forking((3, 12, 3, 3)), {"source": peer}, pool, budget)
    assert peer.held_at["b1"] == 12  # nothing else held while it ran
    assert max(held for name, held in peer.held_at.items() if name != "b1") <= 9
    assert budget.held == 0


def test_a_failing_branch_gives_its_bytes_back():
    budget = ByteBudget(5)

    class Failing:
        label = "failing"

        def work(self, name: str) -> str:
            raise RuntimeError(name)

    with ThreadPoolExecutor(2) as pool, pytest.raises(RuntimeError):
        drive(_forking((5, 5)), {"source": Failing()}, pool, budget)
    assert budget.held == 0
