"""The panel's trimmed mean: the rule, and that it does not depend on the order of the scores."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fmc_scoring.experts.aggregate import Criterion, EvaluatorScore, trimmed_mean


def score(score_id: str, value: float, *, readiness: float | None = None) -> EvaluatorScore:
    criteria = dict.fromkeys(Criterion, value)
    if readiness is not None:
        criteria[Criterion.READINESS] = readiness
    return EvaluatorScore(score_id=score_id, evaluator=f"ev-{score_id}", criteria=criteria)


panels = st.lists(
    st.tuples(st.integers(0, 100), st.integers(0, 100), st.integers(0, 100)), min_size=1, max_size=9
).map(
    lambda rows: [
        EvaluatorScore(
            score_id=f"s{i}",
            evaluator=f"e{i}",
            criteria=dict(zip(Criterion, map(float, row), strict=True)),
        )
        for i, row in enumerate(rows)
    ]
)


class TestTrimmedMean:
    def test_with_five_scores_the_highest_and_lowest_are_dropped(self) -> None:
        result = trimmed_mean(
            [score("a", 10), score("b", 60), score("c", 70), score("d", 80), score("e", 100)]
        )
        assert result.value == pytest.approx(70.0)
        assert set(result.dropped) == {"a", "e"}
        assert result.used == ("b", "c", "d")

    def test_with_four_scores_it_is_the_plain_mean(self) -> None:
        result = trimmed_mean([score("a", 10), score("b", 60), score("c", 70), score("d", 100)])
        assert result.value == pytest.approx(60.0)
        assert result.dropped == ()

    def test_an_evaluators_score_is_the_mean_of_the_three_criteria(self) -> None:
        result = trimmed_mean([score("a", 90, readiness=60)])
        assert result.value == pytest.approx(80.0)
        assert result.per_criterion[Criterion.READINESS] == pytest.approx(60.0)

    def test_only_one_of_several_equal_extremes_is_dropped(self) -> None:
        result = trimmed_mean([score(x, v) for x, v in zip("abcdef", [50, 50, 60, 70, 90, 90], strict=True)])
        assert len(result.dropped) == 2
        assert result.value == pytest.approx((50 + 60 + 70 + 90) / 4)

    @given(panels, st.randoms(use_true_random=False))
    def test_aggregation_does_not_depend_on_input_order(
        self, scores: list[EvaluatorScore], shuffler: random.Random
    ) -> None:
        shuffled = list(scores)
        shuffler.shuffle(shuffled)
        assert trimmed_mean(shuffled) == trimmed_mean(scores)

    @given(panels)
    def test_the_result_lies_between_the_lowest_and_highest_score(self, scores: list[EvaluatorScore]) -> None:
        overall = [s.overall for s in scores]
        assert min(overall) - 1e-9 <= trimmed_mean(scores).value <= max(overall) + 1e-9

    def test_no_scores_is_refused(self) -> None:
        with pytest.raises(ValueError, match="at least one"):
            trimmed_mean([])
