"""Aggregating an expert panel's scores for one team (pure).

Each evaluator scores three rubric criteria, 0 to 100; an evaluator's score for the team is their
mean over the criteria. The panel's score is the trimmed mean of the evaluators' scores: with five
or more, the single highest and single lowest are dropped (one each, even when several evaluators
gave the same extreme); with fewer, the plain mean. Every score stays stored; the result names which
were dropped, so a team can see how its figure came about.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction


class Criterion(StrEnum):
    TECHNICAL_ORIGINALITY = "technical-originality"
    TECHNOLOGICAL_CAPABILITY = "technological-capability"
    READINESS = "readiness"


TRIM_FROM = 5


@dataclass(frozen=True)
class EvaluatorScore:
    score_id: str
    evaluator: str
    criteria: dict[Criterion, float]

    @property
    def overall(self) -> float:
        return math.fsum(self.criteria[c] for c in Criterion) / len(Criterion)


@dataclass(frozen=True)
class PanelScore:
    value: float
    per_criterion: dict[Criterion, float]
    used: tuple[str, ...]
    dropped: tuple[str, ...]


def _sort_key(score: EvaluatorScore) -> tuple[Fraction, str]:
    # Exact ordering (Fraction) and the score id as a tie-break: which of two equal extremes is
    # dropped must not depend on the order the scores were given in.
    return Fraction(score.overall), score.score_id


def trimmed_mean(scores: Sequence[EvaluatorScore]) -> PanelScore:
    """The panel's score for one team: see the module docstring for the rule."""
    if not scores:
        raise ValueError("a panel score needs at least one evaluator score")
    ordered = sorted(scores, key=_sort_key)
    kept = ordered[1:-1] if len(ordered) >= TRIM_FROM else ordered
    dropped = [ordered[0], ordered[-1]] if len(ordered) >= TRIM_FROM else []
    per_criterion = {c: math.fsum(s.criteria[c] for s in kept) / len(kept) for c in Criterion}
    return PanelScore(
        value=math.fsum(s.overall for s in kept) / len(kept),
        per_criterion=per_criterion,
        used=tuple(sorted(s.score_id for s in kept)),
        dropped=tuple(s.score_id for s in dropped),
    )
