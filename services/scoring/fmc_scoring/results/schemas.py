"""Result views, one per audience. Only the operator view carries positions; the team view carries
the team's own figures; the public view carries nothing numeric."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from fmc_common.inputs import Reason


class OperatorTeamOut(BaseModel):
    team_id: uuid.UUID
    team_name: str
    outcome: str
    reason: str | None
    rank: int | None
    composite: float | None
    benchmark: float | None
    expert: float | None
    user: float | None
    detail: dict[str, Any] = Field(
        description="Gates, failed suites, open questions, and the inputs of every figure"
    )


class OperatorResultOut(BaseModel):
    """A result version in full (operators)."""

    stage_id: uuid.UUID
    result_id: uuid.UUID
    version: int
    status: str
    cause: str
    cause_id: uuid.UUID | None
    cause_reason: str | None
    advancing_planned: int
    advancing: int
    vacancies: int
    blocking: list[str]
    inputs: dict[str, Any] = Field(
        description="What the version was computed from: criteria revision, arena summary, the evidence "
        "snapshot (cut-off, grade/score/vote/check ids and hashes) and, for a re-evaluation, the version "
        "it started from, the concerns and every change with its cause (docs/scoring.md)"
    )
    proposed_by: str
    proposed_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    finalized_at: datetime | None
    teams: list[OperatorTeamOut]
    corrects_version: int | None = Field(default=None, description="The version this one replaced")
    correction: str | None = Field(default=None, description="re-evaluation, reopening or revision")
    stage_final: bool = Field(default=False, description="Whether the stage is final now")


class SuiteFigureOut(BaseModel):
    suite_key: str
    suite_version: str
    run_id: uuid.UUID
    accuracy: float
    ci_low: float
    ci_high: float
    items: int
    errored: int


class OwnExpertOut(BaseModel):
    value: float
    per_criterion: dict[str, float]
    score_ids: list[uuid.UUID]
    dropped_score_ids: list[uuid.UUID]


class OwnUserOut(BaseModel):
    win_rate: float
    votes: int


class TeamOwnResultOut(BaseModel):
    """A team's own result in the published version: its outcome, scores, parts and per-suite figures.
    No position, and nothing about any other team."""

    stage_id: uuid.UUID
    version: int
    team_id: uuid.UUID
    outcome: str
    reason: str | None
    composite: float | None
    benchmark: float | None
    expert: float | None
    user: float | None
    gates: dict[str, str]
    failed_suites: list[str]
    suites: list[SuiteFigureOut]
    expert_panel: OwnExpertOut | None
    user_votes: OwnUserOut | None
    finalized: bool = Field(description="Whether the stage is final now (not reopened since)")


class PublicTeamOutcome(BaseModel):
    team_id: uuid.UUID
    team_name: str
    outcome: Literal["advanced", "eliminated"]
    reason_category: str | None = Field(description="benchmark-threshold, originality or rank")


class PublicResultOut(BaseModel):
    """What anyone may know: who advances and who is eliminated, and why. Nothing numeric."""

    stage_id: uuid.UUID
    teams: list[PublicTeamOutcome]
    final: bool = Field(description="Whether the stage is final now (finalised, not reopened since)")
    version: int | None = Field(default=None, description="The result version in force")
    corrects_version: int | None = Field(default=None, description="The version it corrected, if any")
    correction: Literal["re-evaluation", "reopening", "revision"] | None = Field(
        default=None, description="Why it corrected it (the category; no free text)"
    )


class ReopenIn(BaseModel):
    reason: Reason = Field(description="Why the final stage must be corrected (audited; sent to the teams)")


class ReopeningOut(BaseModel):
    """A reopening of a final stage: the version in force, who, when, why."""

    reopening_id: uuid.UUID
    stage_id: uuid.UUID
    version: int
    reason: str
    reopened_by: str
    reopened_at: datetime


class FeedbackIn(BaseModel):
    """Written feedback to one team on one result version (operators)."""

    team_id: uuid.UUID
    text: str = Field(
        min_length=1, max_length=20_000, description="Prose for the team, shown once the version is published"
    )


class FeedbackOut(BaseModel):
    """The latest revision of an operator's written feedback to a team on a result version."""

    stage_id: uuid.UUID
    version: int
    team_id: uuid.UUID
    revision: int = Field(description="1 first; one more each time the feedback is rewritten")
    text: str
    written_at: datetime
    published: bool = Field(description="Whether the version was published (only then does the team see it)")
