"""Per-tensor evidence against one donor tensor, each figure with its baseline from independent pairs.

The baseline of a positional statistic (Pearson, relative L2, bit-equality) comes from pairs made
independent by shuffling which donor element faces which candidate element; the baseline of CKA
from shuffling which hidden unit faces which. Both keep each tensor's own distribution (LayerNorm
gains near 1, tiny biases), which is exactly what fools a naive check.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from fmc_scoring.originality.fingerprint import TensorFingerprint
from fmc_scoring.originality.scan import F32, F64, Ints
from fmc_scoring.originality.stats import (
    Baseline,
    align_units,
    bit_equal_share,
    normalise_gram,
    pearson,
    permutation_baseline,
    relative_l2,
    unbiased_cka,
    unbiased_cka_null,
)

BASELINE_PAIRS = 24
# Below these a tensor carries no evidence of copying: constant or nearly constant tensors (an
# untrained LayerNorm's ones, zero biases) are identical in unrelated models by construction.
MIN_DISTINCT_VALUES = 16
MIN_ELEMENTS = 64
# Deterministic buffers some checkpoints store: identical in unrelated models with the same config.
BUFFER_MARKERS = ("inv_freq", "position_ids")


@dataclass(frozen=True)
class Figure:
    """An observed statistic beside its baseline mean and spread."""

    value: float
    baseline: Baseline

    @property
    def z(self) -> float:
        return self.baseline.z(self.value)


@dataclass
class TensorEvidence:
    name: str
    donor_tensor: str
    donor_module: str
    numel: int
    informative: bool
    exact: str | None = None
    pearson: Figure | None = None
    relative_l2: Figure | None = None
    bit_equal: Figure | None = None
    cka: Figure | None = None
    anchor_alignment: Figure | None = None
    unit_match: Ints | None = None
    # Most of the tensor's sampled values are NaN or infinite: no figure, and never evidence of originality.
    nonfinite: bool = False


def informative(donor: TensorFingerprint) -> bool:
    if any(marker in donor.name for marker in BUFFER_MARKERS):
        return False
    return donor.numel >= MIN_ELEMENTS and donor.distinct >= MIN_DISTINCT_VALUES


def exact_kind(sha256: str, canonical: str | None, donor: TensorFingerprint) -> str | None:
    """How a candidate tensor equals a donor tensor byte for byte, if it does."""
    if sha256 == donor.sha256:
        return "raw bytes"
    if canonical is not None and canonical in donor.canonical:
        index = donor.canonical.index(canonical)
        return "bf16 cast" if index < 2 else "bf16 cast of the transpose"
    return None


def positional(sample: F32, donor: TensorFingerprint) -> tuple[Figure, Figure | None, Figure] | None:
    """Pearson, relative L2 and bit-equal share of same-position elements, with shuffled baselines.

    Only positions where both values are finite count (NaN planted in unused rows does not switch
    the comparison off); None when fewer than half are. Relative L2 is undefined (None) against an
    all-zero donor tensor.
    """
    reference = donor.sample
    if sample.shape != reference.shape:
        return None
    finite = np.isfinite(sample) & np.isfinite(reference)
    if not finite.all():
        if finite.mean() < 0.5 or int(finite.sum()) < 8:
            return None
        sample, reference = sample[finite], reference[finite]
    null = _ShuffledNull(reference, sample.astype(np.float64))
    distance = None
    if np.any(reference):
        distance = Figure(relative_l2(sample, reference), permutation_baseline(null.relative_l2()))
    return (
        Figure(pearson(sample, reference), permutation_baseline(null.pearson())),
        distance,
        Figure(bit_equal_share(sample, reference), permutation_baseline(null.bit_equal(sample, reference))),
    )


def shuffle_orders(n: int) -> Ints:
    """``BASELINE_PAIRS`` fixed permutations of ``n`` positions, drawn once per length (seeded by it):
    a shuffle only has to break the correspondence, so every tensor of a shape can share them."""
    with _LOCK:
        found = _ORDERS.get(n)
    if found is None:
        generator = np.random.default_rng(n)
        found = np.stack([generator.permutation(n) for _ in range(BASELINE_PAIRS)])
        with _LOCK:
            if len(_ORDERS) >= _CACHE_LIMIT:
                _ORDERS.pop(next(iter(_ORDERS)))
            _ORDERS[n] = found
    return found


class _ShuffledNull:
    """The donor sample under the fixed orders of its length, against one candidate sample.

    A shuffle keeps a sample's mean, energy and norm, so per order only one product with the
    candidate is needed; both (with the centred and the raw candidate) come from one float64
    matrix product over the gathered orders (no per-tensor shuffling, no mixed-precision products).
    """

    def __init__(self, reference: F32, y: F64) -> None:
        self.orders = shuffle_orders(reference.size)
        wide = reference.astype(np.float64)
        centred = wide - float(wide.mean())
        self.centred_energy = float(centred @ centred)
        self.norm_sq = float(wide @ wide)
        self.y = y
        self.centred_y = y - float(y.mean())  # sums to zero: rows . centred = centred rows . centred
        products = np.take(wide, self.orders) @ np.stack([self.centred_y, y], axis=1)
        self.centred_products, self.raw_products = products[:, 0], products[:, 1]

    def pearson(self) -> list[float]:
        denominator = math.sqrt(self.centred_energy * float(self.centred_y @ self.centred_y))
        if denominator <= 0.0:
            return [0.0] * len(self.orders)
        return [float(v) for v in self.centred_products / denominator]

    def relative_l2(self) -> list[float]:
        squared = np.maximum(self.norm_sq + float(self.y @ self.y) - 2.0 * self.raw_products, 0.0)
        return [float(v) for v in np.sqrt(squared) / math.sqrt(self.norm_sq)]

    def bit_equal(self, sample: F32, reference: F32) -> list[float]:
        bits = np.ascontiguousarray(sample, dtype=np.float32).view(np.uint32)
        rows = np.take(np.ascontiguousarray(reference, dtype=np.float32).view(np.uint32), self.orders)
        return [float(v) for v in (rows == bits).mean(axis=1)]


_CACHE_LIMIT = 64  # lengths whose orders are kept (4,096 and a few others in practice)
_LOCK = threading.Lock()  # checks run in worker threads
_ORDERS: dict[int, Ints] = {}


def aligned_cka(gram: F64, donor: TensorFingerprint) -> Figure | None:
    """CKA of the donor's Gram over its chosen hidden units and the candidate's over the matched units."""
    if donor.gram is None or gram.shape != donor.gram.shape or gram.shape[0] < 4:
        return None
    if not np.all(np.isfinite(gram)):
        return None
    candidate = normalise_gram(gram)
    reference = donor.gram.astype(np.float64)
    null = unbiased_cka_null(reference, candidate, shuffle_orders(candidate.shape[0]))
    return Figure(unbiased_cka(reference, candidate), permutation_baseline(null))


def match_units(vectors: F32, donor: TensorFingerprint) -> Ints | None:
    """Which candidate MLP unit each of the donor's sampled units matches (by |correlation|)."""
    if (
        donor.units is None
        or vectors.shape[1] != donor.units.shape[1]
        or vectors.shape[0] < donor.units.shape[0]
    ):
        return None
    return align_units(donor.units, vectors).match


def anchor_strength_baseline(
    reference: F32, candidate: F32, rng: np.random.Generator, pairs: int = 8
) -> Baseline:
    """Mean matched |correlation| when the anchor's features are shuffled (no correspondence left)."""
    values = []
    for _ in range(pairs):
        order = rng.permutation(candidate.shape[1])
        values.append(align_units(reference, candidate[:, order]).mean_strength)
    return permutation_baseline(values)
