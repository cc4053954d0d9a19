"""Exponential backoff with full jitter (pure): retry n waits uniformly in [0, min(cap, base * 2**(n-1))]."""

from __future__ import annotations

import random


def backoff_ceiling(attempt: int, base: float, cap: float) -> float:
    """The largest wait before retry number ``attempt`` (1 = first retry)."""
    if attempt < 1:
        raise ValueError("attempt starts at 1")
    # Bound the exponent: 2**1100 overflows a float long after the cap has been reached anyway.
    return min(cap, base * 2.0 ** min(attempt - 1, 60))


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Full jitter spreads the retries of many items so they do not hit a recovering server at once."""
    ceiling = backoff_ceiling(attempt, base, cap)
    return (rng or _RNG).uniform(0.0, ceiling)


_RNG = random.Random()  # noqa: S311 - jitter, not a secret
