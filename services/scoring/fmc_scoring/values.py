"""Value types shared by several scoring packages (pure: imports nothing above it).

A suite stores items and their answer keys, grading grades them; criteria weight the parts of the
score, results decide with them. The types live here, below every user, so the packages depend on
each other one way.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from enum import StrEnum


class ItemKind(StrEnum):
    MULTIPLE_CHOICE = "multiple-choice"
    EXACT_MATCH = "exact-match"
    NUMERIC = "numeric"
    CODE = "code"
    JUDGED = "judged"


MAX_SAMPLES = 20
"""Samples per item a stage may ask for (pass@k of executed code): each is a run of the suite."""


class ChoiceScoring(StrEnum):
    """How a multiple-choice suite is asked and graded (the stage's criteria say, per suite)."""

    GENERATE = "generate"
    """The model writes its answer; the letter (or choice) is read from the text."""
    LOGLIKELIHOOD = "loglikelihood"
    """The model scores each choice's text after the question; the most likely choice is its answer."""


class Normalisation(StrEnum):
    """How a log-likelihood is compared across choices (lm-evaluation-harness's metrics)."""

    RAW = "raw"
    """The sum of the continuation's token log-probs (``acc``)."""
    PER_TOKEN = "per-token"
    """That sum over the continuation's token count."""
    PER_BYTE = "per-byte"
    """That sum over the continuation's UTF-8 bytes (``acc_bytes``)."""


@dataclass(frozen=True)
class AnswerKey:
    """What counts as right for one item. Exactly one of the answers is set, by ``kind``.

    A ``code`` item's answer is its hidden ``tests`` (Python source with plain asserts, run against
    the model's code in the sandbox) and, optionally, the name of the function they call."""

    kind: ItemKind
    choice: int | None = None
    answers: tuple[str, ...] = ()
    number: float | None = None
    rel_tol: float = 1e-6
    tests: str | None = None
    entry_point: str | None = None

    def __post_init__(self) -> None:
        given = {
            ItemKind.MULTIPLE_CHOICE: self.choice is not None,
            ItemKind.EXACT_MATCH: bool(self.answers),
            ItemKind.NUMERIC: self.number is not None,
            ItemKind.CODE: bool(self.tests),
            ItemKind.JUDGED: True,  # its reference answer (``answers``) is optional
        }
        if not given[self.kind]:
            raise ValueError(f"a {self.kind} key needs its answer")


@dataclass(frozen=True)
class GradableItem:
    """An item as grading sees it: its key, and the choices with their labels."""

    item_id: str
    key: AnswerKey
    choices: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()


def default_labels(count: int) -> list[str]:
    """A multiple-choice item's labels when its suite gives none: ``A``, ``B``, ..."""
    return list(string.ascii_uppercase[:count])


# The parts of a team's score, weighted by the stage's criteria. (No docstring: it would enter the
# published OpenAPI schema of the criteria.)
class Part(StrEnum):
    BENCHMARK = "benchmark"
    EXPERT = "expert"
    USER = "user"
