"""Bounded retries with exponential back-off and full jitter, and a switch for tests.

`Backoff.delays()` gives the waits before each retry: base · 2^n, capped, each drawn
uniformly from [0, that] (AWS's "full jitter"), so many devices coming back online at once
do not retry in step. `set_testing(True)` makes every wait zero (stamina's `set_testing`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass

_testing = False


def set_testing(on: bool) -> None:
    """Remove back-off waits (tests); retries still happen, and are still bounded."""
    global _testing
    _testing = on


@dataclass(frozen=True, slots=True)
class Backoff:
    retries: int = 5
    base: float = 0.25
    cap: float = 10.0

    def delays(self) -> Iterator[float]:
        for attempt in range(self.retries):
            yield random.uniform(0, min(self.cap, self.base * 2**attempt))  # noqa: S311

    @staticmethod
    def sleep(seconds: float) -> None:
        if not _testing:
            time.sleep(seconds)
