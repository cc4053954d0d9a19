"""Accuracy with a bootstrap interval: reproducible, independent of item order, sensible bounds."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fmc_scoring.grading.bootstrap import accuracy_with_ci

outcomes = st.lists(st.sampled_from([0.0, 1.0]), min_size=1, max_size=300)


class TestAccuracyWithInterval:
    @given(outcomes, st.randoms(use_true_random=False))
    def test_the_result_does_not_depend_on_the_order_of_items(
        self, scores: list[float], shuffler: random.Random
    ) -> None:
        shuffled = list(scores)
        shuffler.shuffle(shuffled)
        assert accuracy_with_ci(shuffled, rounds=200) == accuracy_with_ci(scores, rounds=200)

    @given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=200))
    def test_the_interval_holds_the_accuracy_and_stays_within_the_item_scores(
        self, scores: list[float]
    ) -> None:
        result = accuracy_with_ci(scores, rounds=200)
        assert min(scores) - 1e-12 <= result.ci_low <= result.ci_high <= max(scores) + 1e-12
        assert result.items == len(scores)

    def test_grading_again_gives_identical_numbers(self) -> None:
        scores = [1.0] * 61 + [0.0] * 39
        assert accuracy_with_ci(scores) == accuracy_with_ci(list(scores))

    def test_the_interval_matches_the_normal_approximation_for_many_items(self) -> None:
        scores = [1.0] * 700 + [0.0] * 300
        result = accuracy_with_ci(scores, rounds=4000)
        half_width = 1.96 * np.sqrt(0.7 * 0.3 / 1000)
        assert result.accuracy == pytest.approx(0.7)
        assert result.ci_low == pytest.approx(0.7 - half_width, abs=0.006)
        assert result.ci_high == pytest.approx(0.7 + half_width, abs=0.006)

    def test_another_seed_gives_another_interval(self) -> None:
        scores = [1.0] * 55 + [0.0] * 45
        assert accuracy_with_ci(scores, seed=1) != accuracy_with_ci(scores, seed=2)

    def test_no_items_is_refused(self) -> None:
        with pytest.raises(ValueError, match="at least one"):
            accuracy_with_ci([])
