"""The per-tensor baselines equal their direct definitions; the rank test's inputs are the ones it reads."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from fmc_scoring.originality.evidence import positional, shuffle_orders
from fmc_scoring.originality.fingerprint import TensorFingerprint
from fmc_scoring.originality.stats import bit_equal_share, pearson, relative_l2
from fmc_scoring.originality.verdict import rank_test_tensors


def _donor(sample: NDArray[np.float32]) -> TensorFingerprint:
    return TensorFingerprint("w", "text:w", "text.other", "F32", (sample.size,), "0" * 64, (), sample)


def test_positional_baselines_are_the_statistics_against_each_shuffled_donor_sample() -> None:
    rng = np.random.default_rng(11)
    reference = rng.standard_normal(512).astype(np.float32)
    candidate = (0.5 * reference + rng.standard_normal(512)).astype(np.float32)
    candidate[::7] = reference[::7]  # some bit-equal elements, so that baseline is not all zeros
    figures = positional(candidate, _donor(reference))
    assert figures is not None
    r, distance, bits = figures
    assert distance is not None
    shuffled = [reference[order] for order in shuffle_orders(reference.size)]
    direct_r = [pearson(candidate, s) for s in shuffled]
    direct_l2 = [relative_l2(candidate, s) for s in shuffled]
    direct_bits = [bit_equal_share(candidate, s) for s in shuffled]
    assert r.value == pytest.approx(pearson(candidate, reference))
    assert r.baseline.mean == pytest.approx(float(np.mean(direct_r)), abs=1e-12)
    assert r.baseline.sd == pytest.approx(float(np.std(direct_r, ddof=1)), abs=1e-12)
    assert distance.baseline.mean == pytest.approx(float(np.mean(direct_l2)), abs=1e-9)
    assert distance.baseline.sd == pytest.approx(float(np.std(direct_l2, ddof=1)), abs=1e-9)
    assert bits.baseline.mean == pytest.approx(float(np.mean(direct_bits)), abs=1e-12)
    assert r.z > 5  # the related pair stands out of its shuffles


def test_the_rank_test_reads_the_first_two_matchings_by_name_in_each_mlp() -> None:
    gated = ["l.0.mlp.up_proj.weight", "l.0.mlp.gate_proj.weight", "l.0.mlp.down_proj.weight"]
    assert rank_test_tensors(gated) == {"l.0.mlp.down_proj.weight", "l.0.mlp.gate_proj.weight"}
    experts = [f"l.0.mlp.experts.{e}.{w}.weight" for e in (0, 1) for w in ("w3", "w1", "w2")]
    assert rank_test_tensors(experts) == {
        "l.0.mlp.experts.0.w1.weight",
        "l.0.mlp.experts.0.w2.weight",
        "l.0.mlp.experts.1.w1.weight",
        "l.0.mlp.experts.1.w2.weight",
    }
    assert rank_test_tensors(["l.0.mlp.fc1.weight"]) == {"l.0.mlp.fc1.weight"}
