"""Scoring's grading and result events.

On the internal topic (``Topic.SCORING``), with full detail for the services and operators allowed
to read it: ``RunGraded``, ``StageResultProposed``, ``StageResultDetailed``. On the partner-facing
topic (``Topic.PUBLIC``): ``StageResultAnnounced``, team names with advanced or eliminated and the
reason category, nothing else (no score, no position); ``StageFinalAnnounced`` (the stage is final)
and ``StageReopenedAnnounced`` (a final stage was reopened for a correction). Outcome-only
publication to the other services is ``StageResultsPublished`` in ``events/scoring.py``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fmc_common.events.base import Event
from fmc_common.events.topics import Topic
from fmc_common.events.vocabulary import Outcome, Reason


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class RunGraded(Event):
    """A run's responses were graded: accuracy over the suite's items with a bootstrap interval."""

    event_type = "fmc.scoring.run-graded.v1"
    topic = Topic.SCORING

    run_id: uuid.UUID
    stage_id: uuid.UUID
    team_id: uuid.UUID
    suite_id: uuid.UUID
    items: int = Field(ge=0)
    errored: int = Field(ge=0)
    accuracy: float = Field(ge=0.0, le=1.0)
    ci_low: float = Field(ge=0.0, le=1.0)
    ci_high: float = Field(ge=0.0, le=1.0)
    responses_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    graded_at: datetime

    def partition_key(self) -> str:
        return str(self.stage_id)

    def subject(self) -> str | None:
        return f"runs/{self.run_id}"


class StageResultProposed(Event):
    """A result version was computed for a stage and awaits an operator's approval."""

    event_type = "fmc.scoring.stage-result-proposed.v1"
    topic = Topic.SCORING

    stage_id: uuid.UUID
    result_id: uuid.UUID
    version: int = Field(ge=1)
    cause: str = Field(max_length=32, description="initial or re-evaluation")
    blocking: int = Field(ge=0, description="open questions that prevent approval")
    proposed_at: datetime

    def partition_key(self) -> str:
        return str(self.stage_id)

    def subject(self) -> str | None:
        return f"stage-results/{self.result_id}"


class SuiteFigure(_Part):
    suite_id: uuid.UUID
    suite_key: str = Field(max_length=100)
    suite_version: str = Field(max_length=50)
    run_id: uuid.UUID | None = None
    accuracy: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


class TeamResultDetail(_Part):
    """A team's full result: outcome and reason, the figures, and the inputs they come from."""

    team_id: uuid.UUID
    outcome: Literal[Outcome.ADVANCE, Outcome.ELIMINATE, Outcome.PENDING]
    reason_code: str | None = Field(default=None, max_length=64)
    rank: int | None = Field(default=None, ge=1)
    composite: float | None = None
    benchmark: float | None = None
    expert: float | None = None
    user: float | None = None
    suites: list[SuiteFigure] = Field(default_factory=list, max_length=100)
    expert_score_ids: list[uuid.UUID] = Field(default_factory=list, max_length=200)
    counted_votes: int = Field(default=0, ge=0)
    originality_check_id: uuid.UUID | None = None


class StageResultDetailed(Event):
    """An approved result version with every figure (internal topic only: never to partners)."""

    event_type = "fmc.scoring.stage-result-detailed.v1"
    topic = Topic.SCORING

    stage_id: uuid.UUID
    programme_id: uuid.UUID
    result_id: uuid.UUID
    version: int = Field(ge=1)
    cause: str = Field(max_length=32)
    advancing_planned: int = Field(ge=0)
    vacancies: int = Field(ge=0)
    teams: list[TeamResultDetail] = Field(max_length=1000)
    approved_at: datetime

    def partition_key(self) -> str:
        return str(self.stage_id)

    def subject(self) -> str | None:
        return f"stage-results/{self.result_id}"


class AnnouncedTeam(_Part):
    team_id: uuid.UUID
    team_name: str = Field(max_length=200)
    outcome: Literal["advanced", "eliminated"]
    reason_category: Literal[Reason.BENCHMARK_THRESHOLD, Reason.ORIGINALITY, Reason.RANK] | None = None


# Why a later version corrects an earlier one: an accepted objection's re-evaluation, a correction
# after an operator reopened a final stage, or an operator's revision before the stage was final.
Correction = Literal["re-evaluation", "reopening", "revision"]


class StageResultAnnounced(Event):
    """For partners: who advances and who is eliminated, and why (the category). Nothing numeric.

    A correction names the version it corrects and the category of its cause (no free text)."""

    event_type = "fmc.scoring.stage-result-announced.v1"
    topic = Topic.PUBLIC

    stage_id: uuid.UUID
    version: int = Field(ge=1, description="1 first; a higher version corrects an earlier one")
    teams: list[AnnouncedTeam] = Field(max_length=1000)
    announced_at: datetime
    corrects_version: int | None = Field(
        default=None, ge=1, description="The version this one corrects (null for a first announcement)"
    )
    correction: Correction | None = Field(
        default=None, description="Why it corrects it: re-evaluation, reopening or revision"
    )

    def partition_key(self) -> str:
        return str(self.stage_id)

    def subject(self) -> str | None:
        return f"stages/{self.stage_id}"


class StageFinalAnnounced(Event):
    """For partners: the stage's result is final (every objection window closed, every objection
    decided). ``version`` is the result version in force. Nothing numeric."""

    event_type = "fmc.scoring.stage-final-announced.v1"
    topic = Topic.PUBLIC

    stage_id: uuid.UUID
    version: int = Field(ge=1, description="The result version that is final")
    announced_at: datetime

    def partition_key(self) -> str:
        return str(self.stage_id)

    def subject(self) -> str | None:
        return f"stages/{self.stage_id}"


class StageReopenedAnnounced(Event):
    """For partners: an operator reopened a final stage for a correction; it is not final until the
    fresh objection windows close. ``version`` is the result version in force. No reason text."""

    event_type = "fmc.scoring.stage-reopened-announced.v1"
    topic = Topic.PUBLIC

    stage_id: uuid.UUID
    version: int = Field(ge=1, description="The result version in force when the stage was reopened")
    announced_at: datetime

    def partition_key(self) -> str:
        return str(self.stage_id)

    def subject(self) -> str | None:
        return f"stages/{self.stage_id}"
