"""Grading by log-likelihood (pure): the normalisations, the argmax, records that are no answer, and
the items document a log-likelihood run fetches (no key)."""

from __future__ import annotations

import json

import pytest

from fmc_scoring.grading.grader import GradeReason
from fmc_scoring.grading.loglikelihood import ChoiceScore, grade_loglikelihood, normalised
from fmc_scoring.suites.content import Prompt, loglikelihood_document
from fmc_scoring.values import AnswerKey, GradableItem, ItemKind, Normalisation

ITEM = GradableItem("q", AnswerKey(ItemKind.MULTIPLE_CHOICE, choice=1), ("Busan", "Seoul"))


def record(*scores: tuple[float, int]) -> str:
    return json.dumps({"loglikelihoods": [{"logprob": lp, "tokens": n} for lp, n in scores]})


class TestNormalisations:
    @pytest.mark.parametrize(
        ("normalisation", "expected"),
        [(Normalisation.RAW, -6.0), (Normalisation.PER_TOKEN, -2.0), (Normalisation.PER_BYTE, -1.0)],
    )
    def test_a_score_over_tokens_or_utf8_bytes(self, normalisation: Normalisation, expected: float) -> None:
        assert normalised(ChoiceScore(-6.0, 3), " Seoul", normalisation) == expected  # 6 bytes

    def test_korean_counts_utf8_bytes_not_characters(self) -> None:
        # " 서울": a space and two 3-byte syllables.
        assert normalised(ChoiceScore(-7.0, 1), " 서울", Normalisation.PER_BYTE) == -1.0


class TestGrade:
    def test_the_most_likely_choice_is_the_answer(self) -> None:
        right = grade_loglikelihood(ITEM, record((-3.0, 1), (-0.5, 1)), Normalisation.RAW)
        wrong = grade_loglikelihood(ITEM, record((-0.5, 1), (-3.0, 1)), Normalisation.RAW)
        assert (right.correct, right.reason, right.extracted) == (True, GradeReason.CORRECT, "B")
        assert (wrong.correct, wrong.reason, wrong.extracted) == (False, GradeReason.WRONG_ANSWER, "A")

    def test_a_tie_goes_to_the_first_choice(self) -> None:
        assert grade_loglikelihood(ITEM, record((-1.0, 1), (-1.0, 1)), Normalisation.RAW).extracted == "A"

    def test_normalisations_can_disagree(self) -> None:
        # " Busan" 6 bytes in 1 token; " Seoul" 6 bytes in 3 tokens.
        scores = record((-2.0, 1), (-3.0, 3))
        assert grade_loglikelihood(ITEM, scores, Normalisation.RAW).extracted == "A"
        assert grade_loglikelihood(ITEM, scores, Normalisation.PER_TOKEN).extracted == "B"

    @pytest.mark.parametrize(
        "response",
        [
            "B",
            '{"loglikelihoods": [{"logprob": -1, "tokens": 1}]}',
            '{"loglikelihoods": [{"logprob": "nan", "tokens": 1}, {"logprob": -1, "tokens": 1}]}',
            '{"loglikelihoods": [{"logprob": -1, "tokens": 0}, {"logprob": -1, "tokens": 1}]}',
            '{"other": []}',
        ],
        ids=["text", "one-score-for-two-choices", "nan", "no-token", "other-shape"],
    )
    def test_a_record_that_is_not_one_score_per_choice_is_no_answer(self, response: str) -> None:
        grade = grade_loglikelihood(ITEM, response, Normalisation.RAW)
        assert (grade.correct, grade.reason) == (False, GradeReason.NO_ANSWER_FOUND)

    def test_an_inference_error_is_graded_as_such(self) -> None:
        assert grade_loglikelihood(ITEM, None, Normalisation.RAW).reason == GradeReason.INFERENCE_ERROR


class TestItemsDocument:
    def test_contexts_and_continuations_without_keys_or_letters(self) -> None:
        document = loglikelihood_document("ko", [Prompt("q", "한국의 수도는?", ("부산", "서울"))])
        [line] = [json.loads(raw) for raw in document.splitlines()]
        assert line == {
            "item_id": "q",
            "context": "한국의 수도는?\n정답:",
            "continuations": [" 부산", " 서울"],
        }
