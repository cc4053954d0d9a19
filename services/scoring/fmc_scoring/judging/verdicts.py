"""Judge prompts, judgements and the credit they give (pure: no I/O).

A judged item is graded by a judge model with a rubric, in one of two modes (MT-Bench's):

* ``single``: the judge rates the answer 1-10 and ends with ``[[rating]]``; the credit is rating/10.
* ``pairwise``: the judge compares the team's answer with the suite's reference answer and ends with
  ``[[A]]``, ``[[B]]`` or ``[[C]]`` (a tie). It is asked in both orders (``ab``: the team's answer
  first; ``ba``: the reference first) so that a judge favouring a position cannot move a grade: the
  team's answer wins only if it wins in both orders (credit 1), loses only if it loses in both
  (credit 0); anything else is a tie (credit 0.5).

The judge prompt is rendered from the suite's template by replacing the placeholders below, once
and in one pass (an answer that contains ``{reference}`` is not expanded). It holds the question,
the answers, the reference and the rubric: never a team's id, name or submission.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class JudgeMode(StrEnum):
    SINGLE = "single"
    PAIRWISE = "pairwise"


class Position(StrEnum):
    """Which judgement of an item: the single one, or one order of a pairwise comparison."""

    SINGLE = "single"
    AB = "ab"  # the team's answer is A, the reference B
    BA = "ba"  # the reference is A, the team's answer B


class Outcome(StrEnum):
    """A pairwise judgement from the team's answer's side."""

    WIN = "win"
    TIE = "tie"
    LOSS = "loss"


PLACEHOLDERS = ("question", "answer", "reference", "rubric", "answer_a", "answer_b")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
_RATING = re.compile(r"\[\[\s*(\d+(?:\.\d+)?)\s*\]\]")
_CHOICE = re.compile(r"\[\[\s*([ABC])\s*\]\]")

DEFAULT_RUBRIC = (
    "Consider the helpfulness, relevance, accuracy, depth and correctness of the answer; "
    "an answer that contradicts the reference answer is wrong."
)

SINGLE_TEMPLATE = """[Instruction]
Please act as an impartial judge and evaluate the quality of the answer provided by an AI assistant \
to the question displayed below, following the rubric. Be as objective as possible. After a short \
explanation, rate the answer on a scale of 1 to 10 by strictly following this format: "[[rating]]", \
for example: "Rating: [[5]]".
[Rubric]
{rubric}
[Question]
{question}
[The Start of Reference Answer]
{reference}
[The End of Reference Answer]
[The Start of Assistant's Answer]
{answer}
[The End of Assistant's Answer]"""

PAIRWISE_TEMPLATE = """[Instruction]
Please act as an impartial judge and compare the two answers to the question displayed below, \
following the rubric. Do not let the order of the answers, their length or the assistants' names \
influence you. After a short explanation, output your verdict by strictly following this format: \
"[[A]]" if assistant A is better, "[[B]]" if assistant B is better, and "[[C]]" for a tie.
[Rubric]
{rubric}
[Question]
{question}
[The Start of Assistant A's Answer]
{answer_a}
[The End of Assistant A's Answer]
[The Start of Assistant B's Answer]
{answer_b}
[The End of Assistant B's Answer]"""

DEFAULT_TEMPLATES = {JudgeMode.SINGLE: SINGLE_TEMPLATE, JudgeMode.PAIRWISE: PAIRWISE_TEMPLATE}
REQUIRED = {
    JudgeMode.SINGLE: ("question", "answer"),
    JudgeMode.PAIRWISE: ("question", "answer_a", "answer_b"),
}


def missing_placeholders(mode: JudgeMode, template: str) -> list[str]:
    """The placeholders a template of this mode must have and lacks."""
    found = set(_PLACEHOLDER.findall(template))
    return [name for name in REQUIRED[mode] if name not in found]


def render(template: str, values: Mapping[str, str]) -> str:
    """The template with each placeholder replaced once (unknown ones stay empty)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), template)


def positions(mode: JudgeMode) -> tuple[Position, ...]:
    return (Position.SINGLE,) if mode == JudgeMode.SINGLE else (Position.AB, Position.BA)


def judge_prompt(
    template: str, rubric: str, position: Position, question: str, answer: str, reference: str
) -> str:
    """One judge prompt: in ``ab`` the team's answer is A, in ``ba`` it is B."""
    values = {"question": question, "rubric": rubric, "reference": reference, "answer": answer}
    if position == Position.AB:
        values |= {"answer_a": answer, "answer_b": reference}
    elif position == Position.BA:
        values |= {"answer_a": reference, "answer_b": answer}
    return render(template, values)


@dataclass(frozen=True)
class Parsed:
    """A judgement read: a rating (single) or an outcome (pairwise); both None if unparsable."""

    rating: float | None = None
    outcome: Outcome | None = None

    @property
    def ok(self) -> bool:
        return self.rating is not None or self.outcome is not None


def parse(position: Position, output: str | None) -> Parsed:
    """The judge's verdict: the last ``[[...]]`` of its output (a judge may quote the format first).
    A rating outside 1-10, a missing or ambiguous verdict, or no output at all is unparsable."""
    if output is None:
        return Parsed()
    if position == Position.SINGLE:
        ratings = _RATING.findall(output)
        rating = float(ratings[-1]) if ratings else None
        return Parsed(rating=rating) if rating is not None and 1.0 <= rating <= 10.0 else Parsed()
    choices = _CHOICE.findall(output)
    if not choices:
        return Parsed()
    team = "A" if position == Position.AB else "B"
    verdict = choices[-1]
    if verdict == "C":
        return Parsed(outcome=Outcome.TIE)
    return Parsed(outcome=Outcome.WIN if verdict == team else Outcome.LOSS)


def combine(outcomes: tuple[Outcome, Outcome]) -> float:
    """Both orders' outcomes to a credit: 1 only for a win in both, 0 only for a loss in both."""
    if outcomes == (Outcome.WIN, Outcome.WIN):
        return 1.0
    if outcomes == (Outcome.LOSS, Outcome.LOSS):
        return 0.0
    return 0.5


@dataclass(frozen=True)
class Judged:
    """An item's judged credit, or ``unparsable`` (credit 0) when a judgement it needs has no verdict."""

    item_id: str
    credit: float
    unparsable: bool
    verdict: str | None  # what the judge said, short: ``[[8]]`` or ``win/loss``


def judge_item(item_id: str, mode: JudgeMode, parsed: Mapping[Position, Parsed]) -> Judged:
    """The item's credit from its final judgements (one per position)."""
    if any(not parsed.get(p, Parsed()).ok for p in positions(mode)):
        return Judged(item_id, 0.0, True, None)
    if mode == JudgeMode.SINGLE:
        rating = parsed[Position.SINGLE].rating
        assert rating is not None  # ok above
        return Judged(item_id, rating / 10.0, False, f"[[{rating:g}]]")
    ab, ba = parsed[Position.AB].outcome, parsed[Position.BA].outcome
    assert ab is not None  # ok above
    assert ba is not None
    return Judged(item_id, combine((ab, ba)), False, f"{ab}/{ba}")
