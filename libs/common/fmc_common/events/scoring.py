"""Events emitted by scoring."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fmc_common.events.base import Event
from fmc_common.events.topics import Topic
from fmc_common.events.vocabulary import Verdict


class Elimination(BaseModel):
    """A team that did not advance, and why. No score, no position."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    team_id: uuid.UUID
    reason_code: str = Field(description="benchmark-threshold, originality or rank", max_length=64)


class StageFinalized(Event):
    """A stage's result is final (objection window closed, every objection decided).

    Carries who advances and who is eliminated with the reason code; never scores or ranks.
    """

    event_type = "fmc.scoring.stage-finalized.v1"
    topic = Topic.SCORING

    stage_id: uuid.UUID
    programme_id: uuid.UUID
    advancing_team_ids: list[uuid.UUID]
    eliminated: list[Elimination]
    planned_advancing: int = Field(ge=0)
    finalized_at: datetime

    def partition_key(self) -> str:
        return str(self.stage_id)

    def subject(self) -> str | None:
        return f"stages/{self.stage_id}"


class PublishedTeamOutcome(BaseModel):
    """One team's published outcome: advanced or eliminated, and why. No score, no rank."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    team_id: uuid.UUID
    outcome: Literal["advanced", "eliminated"]
    reason_code: str | None = Field(
        default=None,
        max_length=64,
        description="For an elimination: benchmark-threshold, originality or rank",
    )


class StageResultsPublished(Event):
    """An operator approved a stage's result and it was published: every team is notified now.

    Grievance opens each team's objection window from ``published_at`` (``objection_days`` days,
    ending at the end of the last day in Asia/Seoul). Carries outcomes and reason codes only:
    never scores or ranks.
    """

    event_type = "fmc.scoring.stage-results-published.v1"
    topic = Topic.SCORING

    stage_id: uuid.UUID
    programme_id: uuid.UUID
    published_at: datetime
    objection_days: int = Field(default=10, ge=1, le=60, description="Days teams have to object")
    teams: list[PublishedTeamOutcome] = Field(min_length=1, max_length=1000)
    version: int = Field(default=1, ge=1, description="The result version published (1 first)")
    corrects_version: int | None = Field(
        default=None,
        ge=1,
        description="The version this one replaces (a re-evaluation or a correction after reopening)",
    )

    def partition_key(self) -> str:
        return str(self.stage_id)

    def subject(self) -> str | None:
        return f"stages/{self.stage_id}"


class StageReopened(Event):
    """An operator reopened a final stage for a correction, with a reason (audited).

    Every team of the stage gets a fresh objection window of ``objection_days`` from ``reopened_at``;
    the stage is final again only when those windows have closed and every objection is decided.
    ``teams`` are the outcomes in force when it was reopened. Never scores or ranks.
    """

    event_type = "fmc.scoring.stage-reopened.v1"
    topic = Topic.SCORING

    reopening_id: uuid.UUID
    stage_id: uuid.UUID
    programme_id: uuid.UUID
    version: int = Field(ge=1, description="The result version in force when the stage was reopened")
    reason: str = Field(min_length=1, max_length=4000)
    reopened_by: str = Field(max_length=200)
    reopened_at: datetime
    objection_days: int = Field(default=10, ge=1, le=60)
    teams: list[PublishedTeamOutcome] = Field(min_length=1, max_length=1000)

    def partition_key(self) -> str:
        return str(self.stage_id)

    def subject(self) -> str | None:
        return f"stages/{self.stage_id}"


class _OriginalityVerdict(Event):
    """The fields both versions of the originality verdict event carry. Not an event itself: each
    version keeps its own frozen schema (its type, its verdicts, its docstring as the description),
    and ALL_EVENTS lists the versions only."""

    topic = Topic.SCORING

    check_id: uuid.UUID
    stage_id: uuid.UUID
    team_id: uuid.UUID
    submission_id: uuid.UUID | None = None
    verdict: Verdict
    reused_components: list[Annotated[str, Field(max_length=300)]] = Field(
        default_factory=list, max_length=20
    )
    reused_modules: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=500)
    donors: list[Annotated[str, Field(max_length=401)]] = Field(
        default_factory=list, max_length=50, description="Reference models matched, as name@revision"
    )
    issued_at: datetime

    def partition_key(self) -> str:
        return str(self.stage_id)

    def subject(self) -> str | None:
        return f"originality-checks/{self.check_id}"


class OriginalityVerdictIssued(_OriginalityVerdict):
    """An originality check of a team's submitted weights reached a verdict.

    ``reused`` names the components and modules found to carry another model's weights and the
    donors they match; ``needs-review`` means a human must look before anyone is accused. The
    statistics stay in the check's report (``/v1/originality/checks/{check_id}``), not here.
    """

    event_type = "fmc.scoring.originality-verdict-issued.v1"

    # v1's three verdicts only: its enum is frozen (the contract check refuses changing it).
    verdict: Literal[Verdict.ORIGINAL, Verdict.REUSED, Verdict.NEEDS_REVIEW]


class OriginalityVerdictIssuedV2(_OriginalityVerdict):
    """An originality check of a team's submitted weights reached a verdict (any of the five).

    v1's fields, with two more verdicts: ``not-comparable`` (nothing could be compared: no tensor,
    all values NaN) and ``unreadable`` (the reader refused the files). Both keep the gate pending.
    Published only for those two (docs/decisions/2026-12-06-originality-verdicts-v2.md).

    ``reused`` names the components and modules found to carry another model's weights and the
    donors they match; ``needs-review`` means a human must look before anyone is accused. The
    statistics stay in the check's report (``/v1/originality/checks/{check_id}``), not here.
    """

    event_type = "fmc.scoring.originality-verdict-issued.v2"


V1_VERDICTS = frozenset({Verdict.ORIGINAL, Verdict.REUSED, Verdict.NEEDS_REVIEW})


def originality_verdict_event(**fields: Any) -> OriginalityVerdictIssued | OriginalityVerdictIssuedV2:
    """The verdict event in the oldest version that can say it: v1 unless the verdict is new."""
    if Verdict(fields["verdict"]) in V1_VERDICTS:
        return OriginalityVerdictIssued(**fields)
    return OriginalityVerdictIssuedV2(**fields)
