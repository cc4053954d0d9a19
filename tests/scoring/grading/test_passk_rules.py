"""pass@k over a run's samples (the estimator itself: test_execution_rules.py): exact values for
mixtures of correct and wrong samples, and the bootstrap interval of a suite's pass@k."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fmc_scoring.grading.bootstrap import accuracy_with_ci
from fmc_scoring.grading.execution.passk import pass_at_k


def item_pass_at_k(passed: list[bool], k: int) -> float:
    return pass_at_k(len(passed), sum(passed), k)


class TestMixtures:
    @pytest.mark.parametrize(
        ("passed", "k", "expected"),
        [
            ([True, False, True, False, False], 1, 2 / 5),  # k = 1: the share passing
            ([True, False, True, False, False], 2, 1 - 3 / 10),  # 1 - C(3,2)/C(5,2) = 0.7
            ([True, False, True, False, False], 3, 1 - 1 / 10),  # 1 - C(3,3)/C(5,3) = 0.9
            ([True, False, True, False, False], 4, 1.0),  # fewer than k fail: always a pass
            ([False, False, False, True], 2, 1 - 3 / 6),  # 1 - C(3,2)/C(4,2) = 0.5
            ([True, True, False, False], 2, 1 - 1 / 6),  # 1 - C(2,2)/C(4,2) = 5/6
            ([False] * 10, 5, 0.0),
            ([True] * 3, 3, 1.0),
        ],
    )
    def test_correct_and_wrong_samples_give_the_estimators_exact_value(
        self, passed: list[bool], k: int, expected: float
    ) -> None:
        assert item_pass_at_k(passed, k) == pytest.approx(expected, abs=1e-12)

    @given(st.integers(1, 20), st.data())
    def test_more_passing_samples_or_a_larger_k_never_lower_it(self, n: int, data: st.DataObject) -> None:
        c = data.draw(st.integers(0, n))
        k = data.draw(st.integers(1, n))
        value = pass_at_k(n, c, k)
        assert 0.0 <= value <= 1.0
        if c < n:
            assert pass_at_k(n, c + 1, k) >= value
        if k < n:
            assert pass_at_k(n, c, k + 1) >= value


class TestSuitePassAtK:
    @given(st.lists(st.lists(st.booleans(), min_size=4, max_size=4), min_size=1, max_size=60))
    def test_the_bootstrap_interval_over_items_covers_the_suites_pass_at_k(
        self, items: list[list[bool]]
    ) -> None:
        scores = [item_pass_at_k(samples, 2) for samples in items]
        result = accuracy_with_ci(scores, rounds=300)
        assert result.accuracy == pytest.approx(sum(scores) / len(scores))
        assert result.ci_low <= result.accuracy + 1e-12
        assert result.accuracy <= result.ci_high + 1e-12
        assert min(scores) - 1e-12 <= result.ci_low <= result.ci_high <= max(scores) + 1e-12
