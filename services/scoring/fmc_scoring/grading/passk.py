"""pass@k of executed code from ``n`` samples per item, with the unbiased estimator.

Asking the model ``n >= k`` times per item (distinct seeds) and counting the ``c`` samples whose code
passes the hidden tests, the chance that at least one of ``k`` samples drawn without replacement
from those ``n`` passes is

    pass@k = 1 - C(n - c, k) / C(n, k)

(Chen et al. 2021, "Evaluating Large Language Models Trained on Code", the HumanEval paper): 1 when
fewer than ``k`` samples fail, the share ``c / n`` when ``k = 1``. A suite's pass@k is the mean over
its items, and its bootstrap interval resamples items as for any other credit
(``bootstrap.accuracy_with_ci``). Worked example: ``n = 5``, ``c = 2``, ``k = 2``:
``1 - C(3, 2) / C(5, 2) = 1 - 3/10 = 0.7``.

Computed as exact integer binomials (``n`` is at most ``values.MAX_SAMPLES``), so the same counts give the
same float on every machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import comb


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased estimate of pass@k for one item with ``c`` of ``n`` samples passing."""
    if not 1 <= k <= n:
        raise ValueError(f"pass@k needs 1 <= k <= n, got k={k}, n={n}")
    if not 0 <= c <= n:
        raise ValueError(f"passing samples must be between 0 and n={n}, got {c}")
    return 1.0 - comb(n - c, k) / comb(n, k)


def item_pass_at_k(passed: Sequence[bool], k: int) -> float:
    """pass@k of one item from its samples' outcomes (one per sample, in sample order)."""
    return pass_at_k(len(passed), sum(passed), k)
