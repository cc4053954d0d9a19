"""Status lifecycles of teams and stages: pure transition tables (no FastAPI, SQLAlchemy or Kafka).

Every status change in the registry goes through ``TEAM_LIFECYCLE.check`` or
``STAGE_LIFECYCLE.check``; an illegal transition raises ``IllegalTransition`` with a stable code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from fmc_common.errors import Conflict


class TeamStatus(StrEnum):
    APPLICANT = "applicant"
    SELECTED = "selected"
    IN_STAGE = "in-stage"
    ADVANCED = "advanced"
    ELIMINATED = "eliminated"
    WITHDRAWN = "withdrawn"


class EliminationReason(StrEnum):
    """Why a team left a stage; the public may know it (it is not a score or a position)."""

    BENCHMARK_THRESHOLD = "benchmark-threshold"
    ORIGINALITY = "originality"
    RANK = "rank"


class StageStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open-for-submissions"
    EVALUATING = "evaluating"
    RESULTS_PUBLISHED = "results-published"
    FINAL = "final"
    # Scoring reopened the final stage for a correction (StageReopened): final again on its next
    # StageFinalized, which may correct team statuses (TEAM_CORRECTIONS).
    REOPENED = "reopened"


class IllegalTransition(Conflict):
    code = "illegal-status-transition"
    title = "This status change is not allowed from the current status"


S = TypeVar("S", bound=StrEnum)


@dataclass(frozen=True)
class Lifecycle(Generic[S]):
    """A closed transition table: ``allowed[current]`` is the set of statuses reachable in one step."""

    name: str
    initial: S
    allowed: Mapping[S, frozenset[S]]

    def can(self, current: S, target: S) -> bool:
        return target in self.allowed.get(current, frozenset())

    def check(self, current: S, target: S) -> S:
        """``target`` if the step is legal; otherwise IllegalTransition naming what is allowed."""
        if not self.can(current, target):
            allowed = sorted(s.value for s in self.allowed.get(current, frozenset()))
            raise IllegalTransition(
                f"a {self.name} cannot go from {current.value!r} to {target.value!r}",
                current=current.value,
                requested=target.value,
                allowed=allowed,
            )
        return target

    def terminal(self) -> frozenset[S]:
        return frozenset(s for s, nxt in self.allowed.items() if not nxt)


_T = TeamStatus
TEAM_LIFECYCLE: Lifecycle[TeamStatus] = Lifecycle(
    name="team",
    initial=_T.APPLICANT,
    allowed={
        _T.APPLICANT: frozenset({_T.SELECTED, _T.WITHDRAWN}),
        _T.SELECTED: frozenset({_T.IN_STAGE, _T.WITHDRAWN}),
        _T.IN_STAGE: frozenset({_T.ADVANCED, _T.ELIMINATED, _T.WITHDRAWN}),
        # An advanced team enters the next stage; after the final stage it stays advanced.
        _T.ADVANCED: frozenset({_T.IN_STAGE, _T.WITHDRAWN}),
        # An eliminated team may be picked again by an additional selection.
        _T.ELIMINATED: frozenset({_T.SELECTED, _T.WITHDRAWN}),
        _T.WITHDRAWN: frozenset(),
    },
)

_S = StageStatus
STAGE_LIFECYCLE: Lifecycle[StageStatus] = Lifecycle(
    name="stage",
    initial=_S.DRAFT,
    allowed={
        _S.DRAFT: frozenset({_S.OPEN}),
        _S.OPEN: frozenset({_S.EVALUATING}),
        _S.EVALUATING: frozenset({_S.RESULTS_PUBLISHED}),
        _S.RESULTS_PUBLISHED: frozenset({_S.FINAL}),
        _S.FINAL: frozenset({_S.REOPENED}),
        _S.REOPENED: frozenset({_S.FINAL}),
    },
)

# The corrections a stage's later finalisation (after a reopening) may make to the teams it decided,
# and nowhere else: advanced <-> eliminated, or another elimination reason. Teams that have moved on
# since (entered the next stage, selected again, withdrawn) are not in this table.
TEAM_CORRECTIONS: Lifecycle[TeamStatus] = Lifecycle(
    name="team (stage correction)",
    initial=_T.ADVANCED,
    allowed={
        _T.ADVANCED: frozenset({_T.ELIMINATED}),
        _T.ELIMINATED: frozenset({_T.ADVANCED, _T.ELIMINATED}),
    },
)


def public_status(status: TeamStatus, stage_number: int | None, reason: EliminationReason | None) -> str:
    """What the public may read about a team: where it stands, and why it left (never a score)."""
    if status == TeamStatus.IN_STAGE:
        return f"in stage {stage_number}"
    if status == TeamStatus.ADVANCED:
        return f"advanced from stage {stage_number}"
    if status == TeamStatus.ELIMINATED:
        why = f" ({_PUBLIC_REASONS[reason]})" if reason is not None else ""
        return f"eliminated in stage {stage_number}{why}"
    return status.value


_PUBLIC_REASONS = {
    EliminationReason.BENCHMARK_THRESHOLD: "below the benchmark threshold",
    EliminationReason.ORIGINALITY: "did not meet the originality standard",
    EliminationReason.RANK: "not among the advancing teams",
}
