"""The statistics of the originality check, as pure functions of numpy arrays.

* Pearson correlation: the cosine of two vectors *after removing each one's mean*. Raw cosine is
  never used: LayerNorm gains all sit near 1, so raw cosine of unrelated models is 0.95-0.99.
* Unbiased linear CKA (Kornblith et al. 2019, with the unbiased HSIC estimator of Song et al. 2012,
  as in Nguyen et al. 2021): similarity of two Gram matrices over the same examples, invariant to
  orthogonal transforms and isotropic scaling of the features, and near 0 for independent data
  whatever the dimensions (the biased estimator is not).
* Hidden-unit alignment: a linear assignment (Hungarian/LAPJV, ``scipy.optimize.linear_sum_assignment``)
  on absolute correlations recovers a permutation with sign flips of hidden units.
* Rank test (after Zhu et al. 2025, "Independence tests for language models"): when two models
  share weights, the matching of MLP units found from one projection agrees with the matching
  found from another; Spearman's rank correlation between the two matchings, combined over layers
  with Fisher's method, gives a p-value.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats as scipy_stats  # type: ignore[import-untyped]
from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped]

Floats = NDArray[np.floating[Any]]
# p-values below this are reported as this: beyond it, float64 logs and z-scores lose meaning.
P_FLOOR = 1e-300


def pearson(x: Floats, y: Floats) -> float:
    """Pearson correlation; 0 when either vector is constant (it carries no evidence)."""
    a = np.asarray(x, dtype=np.float64).ravel()
    b = np.asarray(y, dtype=np.float64).ravel()
    a = a - a.mean()
    b = b - b.mean()
    denominator = math.sqrt(float(a @ a) * float(b @ b))
    if denominator == 0.0:
        return 0.0
    return float(np.clip((a @ b) / denominator, -1.0, 1.0))


def raw_cosine(x: Floats, y: Floats) -> float:
    """Cosine without centring: reported only to show why it is not used."""
    a = np.asarray(x, dtype=np.float64).ravel()
    b = np.asarray(y, dtype=np.float64).ravel()
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    return 0.0 if denominator == 0.0 else float(a @ b) / denominator


def relative_l2(candidate: Floats, reference: Floats) -> float:
    """||candidate - reference|| / ||reference||; infinity when the reference is all zeros."""
    a = np.asarray(candidate, dtype=np.float64).ravel()
    b = np.asarray(reference, dtype=np.float64).ravel()
    norm = float(np.linalg.norm(b))
    return math.inf if norm == 0.0 else float(np.linalg.norm(a - b)) / norm


def bit_equal_share(x: NDArray[np.float32], y: NDArray[np.float32]) -> float:
    """Share of elements whose float32 bit patterns are identical (exact for bf16, f16 and f32 data)."""
    a = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    b = np.ascontiguousarray(y, dtype=np.float32).view(np.uint32)
    return float(np.mean(a == b)) if a.size else 0.0


def cosine_gram(rows: Floats) -> NDArray[np.float64]:
    """Gram matrix of the rows after scaling each to unit length (invariant to per-row rescaling)."""
    gram = np.asarray(rows, dtype=np.float64) @ np.asarray(rows, dtype=np.float64).T
    return normalise_gram(gram)


def normalise_gram(gram: Floats) -> NDArray[np.float64]:
    """K_ij / sqrt(K_ii K_jj): turns a linear Gram into a cosine Gram; zero rows stay zero."""
    g = np.asarray(gram, dtype=np.float64)
    diagonal = np.sqrt(np.clip(np.diag(g), 0.0, None))
    scale = np.where(diagonal > 0, 1.0 / np.where(diagonal > 0, diagonal, 1.0), 0.0)
    return np.asarray(g * scale[:, None] * scale[None, :], dtype=np.float64)


def unbiased_hsic(k: Floats, ell: Floats) -> float:
    """Song et al. (2012) unbiased HSIC estimator from two n x n Gram matrices (n >= 4)."""
    n = k.shape[0]
    if n < 4:
        raise ValueError("unbiased HSIC needs at least 4 examples")
    kt = np.array(k, dtype=np.float64)
    lt = np.array(ell, dtype=np.float64)
    np.fill_diagonal(kt, 0.0)
    np.fill_diagonal(lt, 0.0)
    k_sums = kt.sum(axis=0)
    l_sums = lt.sum(axis=0)
    trace = float(np.sum(kt * lt))
    middle = float(k_sums.sum() * l_sums.sum()) / ((n - 1) * (n - 2))
    last = 2.0 * float(k_sums @ l_sums) / (n - 2)
    return (trace + middle - last) / (n * (n - 3))


def unbiased_cka(k: Floats, ell: Floats) -> float:
    """Unbiased linear CKA between two Gram matrices over the same examples; 0 if either is degenerate."""
    kk = unbiased_hsic(k, k)
    ll = unbiased_hsic(ell, ell)
    if kk <= 0.0 or ll <= 0.0:
        return 0.0
    return unbiased_hsic(k, ell) / math.sqrt(kk * ll)


def unbiased_cka_null(k: Floats, ell: Floats, orders: NDArray[np.int64]) -> list[float]:
    """CKA of ``k`` with ``ell`` relabelled by each order (rows of ``orders``): the values for pairs
    with no correspondence.

    HSIC(L, L) and the sums of all entries do not change under relabelling, so per order only the
    trace term and the row-sum product are recomputed: every relabelled L is one flat gather (its
    indices depend only on the orders, so they are computed once per set of orders) and all trace
    terms one matrix-vector product.
    """
    kk = unbiased_hsic(k, k)
    ll = unbiased_hsic(ell, ell)
    if kk <= 0.0 or ll <= 0.0 or not len(orders):
        return [0.0 for _ in orders]
    norm = math.sqrt(kk * ll)
    n = k.shape[0]
    kt = np.array(k, dtype=np.float64)
    lt = np.array(ell, dtype=np.float64)
    np.fill_diagonal(kt, 0.0)
    np.fill_diagonal(lt, 0.0)
    k_sums, l_sums = kt.sum(axis=0), lt.sum(axis=0)
    middle = float(k_sums.sum() * l_sums.sum()) / ((n - 1) * (n - 2))
    permuted = np.take(lt.ravel(), _flat_relabellings(orders))  # orders x n*n
    traces = permuted @ kt.ravel()
    lasts = 2.0 * (np.take(l_sums, orders) @ k_sums) / (n - 2)
    values = (traces + middle - lasts) / (n * (n - 3)) / norm
    return [float(v) for v in values]


def _flat_relabellings(orders: NDArray[np.int64]) -> NDArray[np.intp]:
    """Flat indices of L[o][:, o] for every order o, kept for the last few sets of orders seen."""
    key = (orders.shape, orders.tobytes())
    with _RELABEL_LOCK:
        found = _RELABELLINGS.get(key)
    if found is None:
        n = orders.shape[1]
        found = (orders[:, :, None] * n + orders[:, None, :]).reshape(orders.shape[0], -1).astype(np.intp)
        with _RELABEL_LOCK:
            if len(_RELABELLINGS) >= 4:
                _RELABELLINGS.pop(next(iter(_RELABELLINGS)))
            _RELABELLINGS[key] = found
    return found


_RELABEL_LOCK = threading.Lock()  # checks run in worker threads
_RELABELLINGS: dict[tuple[tuple[int, ...], bytes], NDArray[np.intp]] = {}


def linear_cka(x: Floats, y: Floats) -> float:
    """Unbiased linear CKA of two representations (examples as rows, any feature counts)."""
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    return unbiased_cka(xa @ xa.T, ya @ ya.T)


@dataclass(frozen=True)
class Alignment:
    """For each reference unit i: the candidate unit ``match[i]``, its sign and |correlation|."""

    match: NDArray[np.int64]
    sign: NDArray[np.float64]
    strength: NDArray[np.float64]

    @property
    def mean_strength(self) -> float:
        return float(self.strength.mean()) if self.strength.size else 0.0


def standardise_rows(rows: Floats) -> NDArray[np.float64]:
    """Each row centred and scaled to unit length, so a dot product is a Pearson correlation."""
    # NaN or infinite values (planted in unused rows) count as zeros: they never break the alignment.
    a = np.nan_to_num(np.asarray(rows, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    a = a - a.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    return np.asarray(np.divide(a, norms, out=np.zeros_like(a), where=norms > 0), dtype=np.float64)


def _standardise_rows32(rows: Floats) -> NDArray[np.float32]:
    """``standardise_rows`` in float32 (means and norms accumulated in float64): for the alignment's
    correlation matrix, where the assignment needs the order of values, not their last digits."""
    a = np.nan_to_num(np.asarray(rows, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    a -= a.mean(axis=1, keepdims=True, dtype=np.float64).astype(np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", a, a, dtype=np.float64)).astype(np.float32)[:, None]
    return np.divide(a, norms, out=np.zeros_like(a), where=norms > 0)


def align_units(reference: Floats, candidate: Floats) -> Alignment:
    """Match each reference row to a distinct candidate row maximising total |Pearson correlation|.

    Rows are units (hidden dimensions, MLP neurons); columns are features with a shared meaning
    (pixels of a patch, token ids, aligned hidden dimensions). Needs at least as many candidate rows.
    """
    if candidate.shape[0] < reference.shape[0]:
        raise ValueError("the candidate has fewer units than the reference")
    correlation = _standardise_rows32(reference) @ _standardise_rows32(candidate).T
    rows, cols = linear_sum_assignment(-np.abs(correlation))
    chosen = correlation[rows, cols].astype(np.float64)
    match = np.empty(reference.shape[0], dtype=np.int64)
    match[rows] = cols
    sign = np.empty(reference.shape[0], dtype=np.float64)
    sign[rows] = np.where(chosen < 0, -1.0, 1.0)
    strength = np.empty(reference.shape[0], dtype=np.float64)
    strength[rows] = np.abs(chosen)
    return Alignment(match, sign, strength)


def spearman_p(x: NDArray[np.int64], y: NDArray[np.int64]) -> tuple[float, float]:
    """Spearman's rho of two matchings and its one-sided p-value (agreement, rho > 0)."""
    if x.size < 4 or np.all(x == x[0]) or np.all(y == y[0]):
        return 0.0, 1.0
    result = scipy_stats.spearmanr(x, y, alternative="greater")
    rho = float(result.statistic)
    if rho >= 1.0 - 1e-12:
        # scipy's t approximation reports p = 0; use the exact permutation bound 1/n! instead.
        return 1.0, max(P_FLOOR, math.exp(-math.lgamma(x.size + 1)))
    return rho, max(P_FLOOR, float(result.pvalue))


def fisher_combine(p_values: list[float]) -> float:
    """Fisher's method: one p-value from independent p-values (1 for an empty list)."""
    if not p_values:
        return 1.0
    statistic = -2.0 * sum(math.log(max(P_FLOOR, p)) for p in p_values)
    return max(P_FLOOR, float(scipy_stats.chi2.sf(statistic, 2 * len(p_values))))


@dataclass(frozen=True)
class Baseline:
    """Mean and spread of a statistic over pairs made independent; ``z`` of an observed value."""

    mean: float
    sd: float
    pairs: int

    def z(self, observed: float) -> float:
        spread = max(self.sd, 1e-6)
        return (observed - self.mean) / spread


def permutation_baseline(
    statistic: list[float],
) -> Baseline:
    """The baseline of a statistic from its values on independent pairs."""
    values = np.asarray(statistic, dtype=np.float64)
    sd = float(values.std(ddof=1)) if values.size > 1 else 0.0
    return Baseline(float(values.mean()) if values.size else 0.0, sd, int(values.size))


def z_to_p(z: float) -> float:
    """One-sided p-value of a standard-normal z-score."""
    return max(P_FLOOR, float(scipy_stats.norm.sf(z)))


def stouffer(z_scores: list[float]) -> float:
    """Combined z-score of independent z-scores."""
    return float(sum(z_scores) / math.sqrt(len(z_scores))) if z_scores else 0.0
