"""Judge prompts, judgements and credit (pure logic: no broker, database or Triton)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fmc_scoring.grading.grader import GradeReason
from fmc_scoring.grading.judged_grades import item_grade
from fmc_scoring.judging.agreement import average_ranks, spearman
from fmc_scoring.judging.verdicts import (
    PAIRWISE_TEMPLATE,
    SINGLE_TEMPLATE,
    JudgeMode,
    Outcome,
    Parsed,
    Position,
    combine,
    judge_item,
    judge_prompt,
    missing_placeholders,
    parse,
)


class TestParse:
    def test_a_rating_is_the_last_double_bracketed_number(self) -> None:
        assert parse(Position.SINGLE, 'Format: "[[rating]]". Good answer. Rating: [[8]]') == Parsed(
            rating=8.0
        )

    def test_a_rating_outside_one_to_ten_or_missing_is_unparsable(self) -> None:
        assert not parse(Position.SINGLE, "Rating: [[11]]").ok
        assert not parse(Position.SINGLE, "Rating: 8").ok
        assert not parse(Position.SINGLE, None).ok

    def test_a_pairwise_verdict_is_read_from_the_teams_side_of_each_order(self) -> None:
        assert parse(Position.AB, "[[A]]").outcome == Outcome.WIN
        assert parse(Position.BA, "[[A]]").outcome == Outcome.LOSS
        assert parse(Position.BA, "[[B]]").outcome == Outcome.WIN
        assert parse(Position.AB, "[[C]]").outcome == Outcome.TIE
        assert not parse(Position.AB, "A is better").ok


class TestCombine:
    def test_only_a_win_in_both_orders_is_full_credit_and_only_a_loss_in_both_none(self) -> None:
        assert combine((Outcome.WIN, Outcome.WIN)) == 1.0
        assert combine((Outcome.LOSS, Outcome.LOSS)) == 0.0

    @given(st.sampled_from(list(Outcome)), st.sampled_from(list(Outcome)))
    def test_a_judge_that_always_picks_one_position_gives_a_tie(self, a: Outcome, b: Outcome) -> None:
        # "A" in both orders reads (win, loss); "B" in both (loss, win): neither may move the grade.
        assert combine((Outcome.WIN, Outcome.LOSS)) == combine((Outcome.LOSS, Outcome.WIN)) == 0.5
        assert combine((a, b)) == combine((b, a))

    def test_an_item_with_an_unparsable_order_gets_no_credit_and_says_so(self) -> None:
        judged = judge_item("q1", JudgeMode.PAIRWISE, {Position.AB: Parsed(outcome=Outcome.WIN)})
        grade = item_grade(judged)
        assert (grade.reason, grade.credit) == (GradeReason.JUDGE_UNPARSABLE, 0.0)

    def test_a_single_rating_gives_a_tenth_of_it(self) -> None:
        judged = judge_item("q1", JudgeMode.SINGLE, {Position.SINGLE: Parsed(rating=7.0)})
        assert item_grade(judged).credit == 0.7


class TestPrompt:
    def test_an_answer_holding_a_placeholder_is_not_expanded(self) -> None:
        text = judge_prompt(SINGLE_TEMPLATE, "rubric", Position.SINGLE, "Q?", "see {reference}", "SECRET")
        assert "see {reference}" in text
        assert text.count("SECRET") == 1

    def test_the_orders_swap_the_answers(self) -> None:
        ab = judge_prompt(PAIRWISE_TEMPLATE, "r", Position.AB, "Q?", "team", "ref")
        ba = judge_prompt(PAIRWISE_TEMPLATE, "r", Position.BA, "Q?", "team", "ref")
        assert ab.index("team") < ab.index("ref")
        assert ba.index("ref") < ba.index("team")

    def test_a_template_lacking_a_required_placeholder_is_named(self) -> None:
        assert missing_placeholders(JudgeMode.PAIRWISE, "{question} {answer_a}") == ["answer_b"]
        assert missing_placeholders(JudgeMode.SINGLE, SINGLE_TEMPLATE) == []


class TestAgreement:
    def test_ties_share_their_average_rank(self) -> None:
        assert average_ranks([3.0, 1.0, 3.0]) == [2.5, 1.0, 2.5]

    def test_rank_correlation_of_the_same_order_is_one_and_of_the_reverse_minus_one(self) -> None:
        assert spearman([0.1, 0.5, 0.9], [10.0, 20.0, 90.0]) == pytest.approx(1.0)
        assert spearman([0.1, 0.5, 0.9], [90.0, 20.0, 10.0]) == pytest.approx(-1.0)

    def test_no_correlation_without_two_teams_or_without_variation(self) -> None:
        assert spearman([0.5], [50.0]) is None
        assert spearman([0.5, 0.5], [40.0, 50.0]) is None
