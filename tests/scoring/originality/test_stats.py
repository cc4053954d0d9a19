"""Properties of the statistics: invariances, null behaviour, recovery of permutations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import ortho_group  # type: ignore[import-untyped]

from fmc_scoring.originality.stats import (
    align_units,
    bit_equal_share,
    cosine_gram,
    fisher_combine,
    linear_cka,
    pearson,
    raw_cosine,
    relative_l2,
    spearman_p,
    unbiased_cka,
    unbiased_cka_null,
    unbiased_hsic,
)

seeds = st.integers(min_value=0, max_value=2**32 - 1)


class TestPearson:
    @settings(max_examples=40, deadline=None)
    @given(seed=seeds, n=st.integers(min_value=2000, max_value=8000))
    def test_independent_vectors_correlate_near_zero(self, seed: int, n: int) -> None:
        rng = np.random.default_rng(seed)
        x, y = rng.standard_normal(n), rng.standard_normal(n)
        assert abs(pearson(x, y)) < 6 / math.sqrt(n)

    @settings(max_examples=40, deadline=None)
    @given(seed=seeds, shift=st.floats(-100, 100), scale=st.floats(0.01, 100))
    def test_is_invariant_to_shifting_and_scaling_either_vector(
        self, seed: int, shift: float, scale: float
    ) -> None:
        rng = np.random.default_rng(seed)
        x, y = rng.standard_normal(500), rng.standard_normal(500)
        assert pearson(x, y) == pytest.approx(pearson(x * scale + shift, y), abs=1e-9)

    def test_layernorm_gains_of_unrelated_models_have_high_raw_cosine_but_no_correlation(self) -> None:
        rng = np.random.default_rng(7)
        a = 1.0 + 0.05 * rng.standard_normal(4096)
        b = 1.0 + 0.05 * rng.standard_normal(4096)
        assert raw_cosine(a, b) > 0.95  # the trap: a naive check would accuse
        assert abs(pearson(a, b)) < 0.1

    def test_a_constant_vector_carries_no_correlation(self) -> None:
        assert pearson(np.ones(100), np.arange(100.0)) == 0.0


class TestDistances:
    def test_relative_l2_of_a_copy_is_zero_and_of_noise_is_its_scale(self) -> None:
        rng = np.random.default_rng(0)
        x = rng.standard_normal(10_000)
        assert relative_l2(x, x) == 0.0
        assert relative_l2(x + 0.1 * rng.standard_normal(10_000), x) == pytest.approx(0.1, rel=0.05)

    def test_bit_equal_share_counts_identical_elements(self) -> None:
        x = np.arange(10, dtype=np.float32)
        y = x.copy()
        y[:3] += 1e-6
        assert bit_equal_share(x, y) == pytest.approx(0.7)


class TestCka:
    @settings(max_examples=30, deadline=None)
    @given(seed=seeds, scale=st.floats(0.01, 100))
    def test_is_invariant_to_orthogonal_transforms_and_isotropic_scaling(
        self, seed: int, scale: float
    ) -> None:
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((40, 12))
        y = x @ rng.standard_normal((12, 16)) + 0.5 * rng.standard_normal((40, 16))
        rotation = ortho_group.rvs(16, random_state=seed % (2**31))
        assert linear_cka(x, y) == pytest.approx(linear_cka(x, scale * y @ rotation), abs=1e-7)

    @settings(max_examples=30, deadline=None)
    @given(seed=seeds)
    def test_of_a_representation_with_itself_is_one(self, seed: int) -> None:
        x = np.random.default_rng(seed).standard_normal((30, 8))
        assert linear_cka(x, x) == pytest.approx(1.0)

    @settings(max_examples=20, deadline=None)
    @given(seed=seeds)
    def test_unbiased_estimate_of_independent_data_is_near_zero_even_with_many_features(
        self, seed: int
    ) -> None:
        rng = np.random.default_rng(seed)
        x, y = rng.standard_normal((64, 500)), rng.standard_normal((64, 500))
        assert abs(linear_cka(x, y)) < 0.1
        # The biased estimator would report about p / (n + p) here, far from 0.
        kx, ky = x @ x.T, y @ y.T
        h = np.eye(64) - 1 / 64
        biased = np.trace(kx @ h @ ky @ h) / math.sqrt(np.trace(kx @ h @ kx @ h) * np.trace(ky @ h @ ky @ h))
        assert biased > 0.5

    def test_cosine_gram_ignores_rescaling_of_examples(self) -> None:
        rng = np.random.default_rng(1)
        x = rng.standard_normal((20, 30))
        scaled = x * rng.uniform(0.1, 10, (20, 1))
        assert unbiased_cka(cosine_gram(x), cosine_gram(scaled)) == pytest.approx(1.0)

    def test_relabelled_null_equals_the_cka_of_each_relabelled_gram(self) -> None:
        # The null is computed from one gather and shared terms; it must equal the direct computation.
        rng = np.random.default_rng(5)
        a, b = rng.standard_normal((40, 30)), rng.standard_normal((40, 30))
        k, ell = cosine_gram(a), cosine_gram(b)
        orders = np.stack([rng.permutation(40) for _ in range(6)])
        direct = [unbiased_cka(k, ell[order][:, order]) for order in orders]
        assert unbiased_cka_null(k, ell, orders) == pytest.approx(direct, abs=1e-12)
        assert unbiased_cka_null(k, ell, orders[::-1]) == pytest.approx(direct[::-1], abs=1e-12)

    def test_hsic_needs_four_examples(self) -> None:
        with pytest.raises(ValueError, match="4 examples"):
            unbiased_hsic(np.eye(3), np.eye(3))


class TestAlignment:
    @settings(max_examples=30, deadline=None)
    @given(seed=seeds, units=st.integers(4, 64))
    def test_recovers_a_permutation_with_sign_flips_and_rescaling(self, seed: int, units: int) -> None:
        rng = np.random.default_rng(seed)
        reference = rng.standard_normal((units, 128))
        perm = rng.permutation(units)
        sign = np.where(rng.random(units) < 0.5, -1.0, 1.0)
        candidate = np.empty_like(reference)
        candidate[perm] = reference * (sign * rng.uniform(0.5, 2, units))[:, None]
        candidate += 0.05 * rng.standard_normal(candidate.shape)
        alignment = align_units(reference, candidate)
        assert np.array_equal(alignment.match, perm)
        assert np.array_equal(alignment.sign, sign)
        assert alignment.mean_strength > 0.9

    def test_matches_a_subset_of_units_inside_a_larger_candidate(self) -> None:
        rng = np.random.default_rng(3)
        candidate = rng.standard_normal((50, 64))
        chosen = np.array([4, 17, 33, 2])
        alignment = align_units(candidate[chosen] + 0.01 * rng.standard_normal((4, 64)), candidate)
        assert list(alignment.match) == list(chosen)

    def test_refuses_a_candidate_with_fewer_units(self) -> None:
        with pytest.raises(ValueError, match="fewer units"):
            align_units(np.ones((5, 3)), np.ones((4, 3)))


class TestRankTest:
    def test_identical_matchings_are_significant_and_independent_ones_are_not(self) -> None:
        rng = np.random.default_rng(5)
        same = rng.permutation(1000)[:128]
        rho, p = spearman_p(same, same.copy())
        assert rho == 1.0
        assert p < 1e-100
        p_values = [
            spearman_p(rng.permutation(1000)[:128], rng.permutation(1000)[:128])[1] for _ in range(200)
        ]
        assert 0.02 < np.mean(np.array(p_values) < 0.05) < 0.1  # uniform under independence

    def test_fisher_combines_p_values(self) -> None:
        assert fisher_combine([]) == 1.0
        assert fisher_combine([0.5]) == pytest.approx(0.5)
        assert fisher_combine([0.01, 0.01, 0.01]) < 0.01
