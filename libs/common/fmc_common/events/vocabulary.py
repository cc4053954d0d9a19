"""Closed sets of values that scoring stores and its events carry (pure: no framework).

The services keep these as ``StrEnum`` members end to end (column, decision, event); an event field
is declared as ``Literal`` of the members, so its published JSON Schema stays the inline ``enum`` of
the values.
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """A team's outcome in a result version (``pending`` until its gates and parts are decided)."""

    ADVANCE = "advance"
    ELIMINATE = "eliminate"
    PENDING = "pending"


class Reason(StrEnum):
    """Why a team is eliminated: the public categories (never a score or a position)."""

    ORIGINALITY = "originality"
    BENCHMARK_THRESHOLD = "benchmark-threshold"
    RANK = "rank"


# An originality check's verdict on a team's weights. (No docstring: the enum is a schema of the
# scoring REST API, where a docstring would become its description.)
class Verdict(StrEnum):
    ORIGINAL = "original"
    REUSED = "reused"
    NEEDS_REVIEW = "needs-review"
    NOT_COMPARABLE = "not-comparable"
    UNREADABLE = "unreadable"
