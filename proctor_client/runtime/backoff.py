"""Reconnection delays: exponential backoff with full jitter (AWS architecture blog, 2015).

The n-th consecutive failure waits a uniform random time in [0, min(cap, base * 2**n)], so a
crowd of candidates cut off at once does not come back in one wave.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

DEFAULT_BASE_S = 0.5
DEFAULT_CAP_S = 10.0


@dataclass(slots=True)
class Backoff:
    base: float = DEFAULT_BASE_S
    cap: float = DEFAULT_CAP_S
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def __post_init__(self) -> None:
        if self.base <= 0 or self.cap < self.base:
            raise ValueError(f"backoff needs 0 < base <= cap, got base={self.base} cap={self.cap}")

    def ceiling(self, attempt: int) -> float:
        """The largest delay for the given attempt (0-based)."""
        return min(self.cap, self.base * 2.0 ** min(attempt, 60))

    def next_delay(self) -> float:
        """The delay before the next try; each call counts one more failure."""
        delay = self.rng.uniform(0.0, self.ceiling(self.attempt))
        self.attempt += 1
        return delay

    def reset(self) -> None:
        """A connection succeeded: the next failure starts from the base again."""
        self.attempt = 0
