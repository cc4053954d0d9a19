"""Grading a multiple-choice item by the model's log-likelihood of each choice (pure).

The gateway's record for a log-likelihood item is ``{"loglikelihoods": [{"logprob", "tokens"}, ...]}``
in choice order (docs/triton-contract.md). Each choice's score is normalised as the criteria say
(``Normalisation``: the raw sum, per token, or per UTF-8 byte of the continuation scored), and the
model's answer is the choice with the highest score (the first one on a tie, as ``numpy.argmax``).
A record that is not that shape, or names another number of choices, is no answer: wrong, never
guessed. The key never leaves scoring.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fmc_scoring.grading.grader import GradeReason, ItemGrade
from fmc_scoring.suites.content import continuation_of
from fmc_scoring.values import GradableItem, Normalisation, default_labels


@dataclass(frozen=True)
class ChoiceScore:
    logprob: float
    tokens: int


def parse_scores(text: str) -> list[ChoiceScore]:
    """The record's scores; ``ValueError`` when it is not the documented shape."""
    body = json.loads(text)
    entries = body["loglikelihoods"] if isinstance(body, dict) else None
    if not isinstance(entries, list):
        raise ValueError("no loglikelihoods list")
    scores = []
    for entry in entries:
        logprob, tokens = float(entry["logprob"]), entry["tokens"]
        if not math.isfinite(logprob) or not isinstance(tokens, int) or tokens < 1:
            raise ValueError(f"not a log-likelihood: {entry!r}")
        scores.append(ChoiceScore(logprob, tokens))
    return scores


def normalised(score: ChoiceScore, continuation: str, normalisation: Normalisation) -> float:
    if normalisation == Normalisation.PER_TOKEN:
        return score.logprob / score.tokens
    if normalisation == Normalisation.PER_BYTE:
        return score.logprob / max(len(continuation.encode("utf-8")), 1)
    return score.logprob


def grade_loglikelihood(item: GradableItem, response: str | None, normalisation: Normalisation) -> ItemGrade:
    """The item graded by the argmax of its choices' normalised log-likelihoods."""
    if response is None:
        return ItemGrade(item.item_id, False, GradeReason.INFERENCE_ERROR, None)
    try:
        scores = parse_scores(response)
    except (ValueError, TypeError, KeyError):
        return ItemGrade(item.item_id, False, GradeReason.NO_ANSWER_FOUND, None)
    if len(scores) != len(item.choices):
        return ItemGrade(item.item_id, False, GradeReason.NO_ANSWER_FOUND, None)
    values = [
        normalised(score, continuation_of(choice), normalisation)
        for score, choice in zip(scores, item.choices, strict=True)
    ]
    picked = max(range(len(values)), key=lambda index: (values[index], -index))
    labels = item.labels or tuple(default_labels(len(item.choices)))
    correct = picked == item.key.choice
    reason = GradeReason.CORRECT if correct else GradeReason.WRONG_ANSWER
    return ItemGrade(item.item_id, correct, reason, labels[picked])


def grade_all_loglikelihood(
    items: Sequence[GradableItem], responses: Mapping[str, str | None], normalisation: Normalisation
) -> list[ItemGrade]:
    return [grade_loglikelihood(item, responses.get(item.item_id), normalisation) for item in items]
