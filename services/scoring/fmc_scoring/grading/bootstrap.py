"""Accuracy over items with a bootstrap confidence interval, reproducible bit for bit.

Resampling ``n`` items with replacement only changes how often each distinct item score is drawn,
so a round is one multinomial draw over the distinct scores (for right/wrong items: one binomial
draw). That is the ordinary nonparametric bootstrap, exact, and it makes the interval independent
of the order in which items are given. The generator is numpy's PCG64 with a fixed seed: grading
the same stored responses again gives the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_SEED = 20_261_122
DEFAULT_ROUNDS = 2_000


@dataclass(frozen=True)
class Accuracy:
    items: int
    correct: float
    accuracy: float
    ci_low: float
    ci_high: float
    level: float
    rounds: int
    seed: int


def accuracy_with_ci(
    scores: Sequence[float],
    *,
    level: float = 0.95,
    rounds: int = DEFAULT_ROUNDS,
    seed: int = DEFAULT_SEED,
) -> Accuracy:
    """Mean item score (1 right, 0 wrong; partial credit allowed) and its percentile interval."""
    if not scores:
        raise ValueError("accuracy needs at least one item")
    if not 0.0 < level < 1.0:
        raise ValueError("level must be between 0 and 1")
    values, counts = np.unique(np.asarray(scores, dtype=np.float64), return_counts=True)
    n = int(counts.sum())
    rng = np.random.Generator(np.random.PCG64(seed))
    draws = rng.multinomial(n, counts / n, size=rounds)
    means = draws @ values / n
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    total = float(values @ counts)
    return Accuracy(
        items=n,
        correct=total,
        accuracy=total / n,
        ci_low=float(low),
        ci_high=float(high),
        level=level,
        rounds=rounds,
        seed=seed,
    )
