"""Grading one response against one answer key (pure; the key never leaves scoring)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from fmc_scoring.grading.choice import extract_choice
from fmc_scoring.grading.normalise import exact_match, normalise
from fmc_scoring.grading.numeric import extract_number, numeric_match
from fmc_scoring.values import GradableItem, ItemKind, default_labels


class GradeReason(StrEnum):
    CORRECT = "correct"
    WRONG_ANSWER = "wrong-answer"
    NO_ANSWER_FOUND = "no-answer-found"
    INFERENCE_ERROR = "inference-error"
    # Executed code (grading.execution): why an answer's code did not pass its hidden tests.
    NO_CODE_FOUND = "no-code-found"
    TESTS_FAILED = "tests-failed"
    TIMEOUT = "timeout"
    RUNTIME_ERROR = "runtime-error"
    MEMORY_LIMIT = "memory-limit"
    OUTPUT_LIMIT = "output-limit"
    SANDBOX_ERROR = "sandbox-error"
    JUDGED = "judged"
    JUDGE_UNPARSABLE = "judge-unparsable"


@dataclass(frozen=True)
class ItemGrade:
    item_id: str
    correct: bool
    reason: GradeReason
    extracted: str | None
    score: float | None = None
    """The item's share of credit in [0, 1] for kinds graded on a scale (a judge's score, pass@k);
    ``None`` for right-or-wrong kinds, whose credit is 1 or 0 (``credit``)."""

    def __post_init__(self) -> None:
        if self.score is not None and not 0.0 <= self.score <= 1.0:
            raise ValueError(f"an item's score is in [0, 1], not {self.score}")

    @property
    def credit(self) -> float:
        """What the item adds to the suite's accuracy (the mean credit over its items)."""
        if self.score is not None:
            return self.score
        return 1.0 if self.correct else 0.0


def grade(item: GradableItem, response: str | None) -> ItemGrade:
    """``response`` is None when the model gave no answer (an inference error): graded incorrect."""
    if response is None:
        return ItemGrade(item.item_id, False, GradeReason.INFERENCE_ERROR, None)
    key = item.key
    if key.kind == ItemKind.CODE:
        raise ValueError("code items are graded by running them: grading.execution.grade")
    if key.kind == ItemKind.MULTIPLE_CHOICE:
        labels = item.labels or tuple(default_labels(len(item.choices)))
        picked = extract_choice(response, item.choices, labels)
        if picked is None:
            return ItemGrade(item.item_id, False, GradeReason.NO_ANSWER_FOUND, None)
        return _verdict(item.item_id, picked == key.choice, labels[picked])
    if key.kind == ItemKind.NUMERIC:
        assert key.number is not None  # checked by AnswerKey
        number = extract_number(response)
        if number is None:
            return ItemGrade(item.item_id, False, GradeReason.NO_ANSWER_FOUND, None)
        return _verdict(item.item_id, numeric_match(response, key.number, key.rel_tol), f"{number:g}")
    extracted = normalise(response)
    if not extracted:
        return ItemGrade(item.item_id, False, GradeReason.NO_ANSWER_FOUND, None)
    return _verdict(item.item_id, exact_match(response, list(key.answers)), extracted[:200])


def _verdict(item_id: str, correct: bool, extracted: str) -> ItemGrade:
    reason = GradeReason.CORRECT if correct else GradeReason.WRONG_ANSWER
    return ItemGrade(item_id, correct, reason, extracted)


def grade_all(items: Sequence[GradableItem], responses: dict[str, str | None]) -> list[ItemGrade]:
    """Every item of the suite, in its order; an item without a response record is an error."""
    return [grade(item, responses.get(item.item_id)) for item in items]
