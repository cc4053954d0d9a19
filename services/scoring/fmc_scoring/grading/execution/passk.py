"""pass@k, the unbiased estimator of Chen et al. (2021, the HumanEval paper), pure.

With ``n`` samples of an item of which ``c`` pass, the chance that at least one of ``k`` samples
drawn without replacement passes is ``1 - C(n - c, k) / C(n, k)``. Computed as a product, so that
large ``n`` neither overflows nor loses precision: ``C(n-c, k)/C(n, k) = prod_{i=n-c+1}^{n} (1 - k/i)``.
"""

from __future__ import annotations


def pass_at_k(n: int, c: int, k: int) -> float:
    """pass@k of one item from ``n`` samples with ``c`` correct (1 <= k <= n, 0 <= c <= n)."""
    if not 1 <= k <= n or not 0 <= c <= n:
        raise ValueError(f"pass@k needs 1 <= k <= n and 0 <= c <= n, not n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    miss = 1.0
    for i in range(n - c + 1, n + 1):
        miss *= 1.0 - k / i
    return 1.0 - miss
