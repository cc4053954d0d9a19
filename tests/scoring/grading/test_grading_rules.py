"""Grading rules: normalisation, multiple-choice extraction, numeric answers, one item's grade."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fmc_scoring.grading.choice import extract_choice
from fmc_scoring.grading.grader import GradeReason, ItemGrade, grade
from fmc_scoring.grading.normalise import exact_match, normalise
from fmc_scoring.grading.numeric import extract_number
from fmc_scoring.values import AnswerKey, GradableItem, ItemKind

CITIES = ["부산", "서울", "인천", "대구"]
ENGLISH = ["Busan", "Seoul", "Incheon", "Daegu"]


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


class TestNormalise:
    @given(st.text(max_size=60))
    def test_normalising_twice_changes_nothing(self, text: str) -> None:
        assert normalise(normalise(text)) == normalise(text)

    @given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=30))
    def test_full_width_ascii_matches_its_ordinary_form(self, text: str) -> None:
        if normalise(text):
            assert exact_match(full_width(text), [text])

    def test_decomposed_hangul_matches_composed_hangul(self) -> None:
        decomposed = "\u1109\u1165\u110b\u116e\u11af"  # 서울 as conjoining jamo
        assert exact_match(decomposed, ["서울"])

    @pytest.mark.parametrize(
        ("response", "key"),
        [
            ("서울입니다.", "서울"),
            ("「서울」", "서울"),
            ("고양이요", "고양이"),
            ("대한민국 서울", "대한민국서울"),
            ("  Seoul!  ", "seoul"),
            ("U.S.A.", "USA"),
            ("서울\u3000특별시", "서울특별시"),
        ],
    )
    def test_equivalent_answers_match(self, response: str, key: str) -> None:
        assert exact_match(response, [key])

    @pytest.mark.parametrize(("response", "key"), [("부산", "서울"), ("", "서울"), ("서울", "서울시청")])
    def test_different_answers_do_not_match(self, response: str, key: str) -> None:
        assert not exact_match(response, [key])

    def test_signs_and_percent_are_kept(self) -> None:
        assert normalise("-5%") == "-5%"


class TestChoiceExtraction:
    @pytest.mark.parametrize(
        ("response", "expected"),
        [
            ("B", 1),
            ("(B)", 1),
            ("b.", 1),
            ("Answer: C", 2),
            ("I considered A, but the answer is D.", 3),
            ("정답은 ③", 2),
            ("정답: B", 1),
            ("② 서울", 1),
            ("B) 서울", 1),
            ("\uff22", 1),
            ("서울", 1),
            ("수도는 서울입니다.", 1),
        ],
    )
    def test_the_picked_choice_is_found(self, response: str, expected: int) -> None:
        assert extract_choice(response, CITIES) == expected

    @pytest.mark.parametrize("response", ["서울 아니면 부산", "the answer is a city", "잘 모르겠습니다", ""])
    def test_no_choice_or_several_choices_pick_nothing(self, response: str) -> None:
        assert extract_choice(response, CITIES) is None

    def test_a_choice_contained_in_another_is_not_a_second_hit(self) -> None:
        assert extract_choice("서울특별시입니다", ["서울", "서울특별시", "부산"]) == 1

    def test_suite_labels_are_used(self) -> None:
        assert extract_choice("정답: 다", CITIES, labels=["가", "나", "다", "라"]) == 2


class TestNumeric:
    @pytest.mark.parametrize(
        ("response", "expected"),
        [
            ("The answer is 42.", 42.0),
            ("정답: 1,234개", 1234.0),
            ("#### 72", 72.0),
            ("3 apples and 4 pears: 7", 7.0),
            ("\uff13/\uff14", 0.75),
            ("x = 2.5, answer: 3", 3.0),
            ("\u221212", -12.0),
        ],
    )
    def test_the_answer_number_is_extracted(self, response: str, expected: float) -> None:
        assert extract_number(response) == pytest.approx(expected)

    def test_a_response_without_a_number_has_none(self) -> None:
        assert extract_number("모르겠습니다") is None


class TestGrade:
    def test_multiple_choice_right_and_wrong(self) -> None:
        item = GradableItem("q1", AnswerKey(ItemKind.MULTIPLE_CHOICE, choice=1), choices=tuple(ENGLISH))
        right = grade(item, "The answer is B")
        wrong = grade(item, "A")
        assert (right.correct, right.reason, right.extracted) == (True, GradeReason.CORRECT, "B")
        assert (wrong.correct, wrong.reason) == (False, GradeReason.WRONG_ANSWER)

    def test_an_inference_error_is_graded_incorrect_with_its_reason(self) -> None:
        item = GradableItem("q1", AnswerKey(ItemKind.EXACT_MATCH, answers=("서울",)))
        result = grade(item, None)
        assert (result.correct, result.reason) == (False, GradeReason.INFERENCE_ERROR)

    def test_numeric_within_tolerance(self) -> None:
        item = GradableItem("q2", AnswerKey(ItemKind.NUMERIC, number=0.5))
        assert grade(item, "답은 1/2 입니다").correct
        assert not grade(item, "0.6").correct
        assert grade(item, "잘 모르겠다").reason == GradeReason.NO_ANSWER_FOUND

    def test_a_key_without_its_answer_is_refused(self) -> None:
        with pytest.raises(ValueError, match="needs its answer"):
            AnswerKey(ItemKind.NUMERIC)


class TestCredit:
    def test_a_scaled_grade_counts_its_share_and_a_right_or_wrong_grade_one_or_zero(self) -> None:
        assert ItemGrade("a", True, GradeReason.CORRECT, None).credit == 1.0
        assert ItemGrade("b", False, GradeReason.WRONG_ANSWER, None).credit == 0.0
        assert ItemGrade("c", False, GradeReason.WRONG_ANSWER, None, score=0.25).credit == 0.25

    def test_a_score_outside_zero_to_one_is_refused(self) -> None:
        with pytest.raises(ValueError, match=r"in \[0, 1\]"):
            ItemGrade("d", True, GradeReason.CORRECT, None, score=1.5)
