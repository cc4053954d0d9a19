from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from fmc_common.events.grievance import DecisionKind
from fmc_common.inputs import Input
from fmc_grievance.decisions import DecisionRef, DecisionRefIn
from fmc_grievance.notifications.models import Outcome
from fmc_grievance.windows.deadline import DEFAULT_OBJECTION_DAYS, MAX_OBJECTION_DAYS
from fmc_grievance.windows.schemas import WindowOut

# Every member of the enum, as a Literal: the published schema lists the values in place, as it
# always has (a field typed with the enum itself would become a reference to a new component).
OutcomeIn = Literal[Outcome.ADVANCED, Outcome.ELIMINATED, Outcome.SELECTED, Outcome.NOT_SELECTED]


class TeamOutcomeIn(Input):
    team_id: uuid.UUID
    outcome: OutcomeIn | None = None
    reason_code: str | None = Field(default=None, min_length=1, max_length=64)


class NotifyIn(Input):
    """Notify teams of a decision (e.g. a selection decision of the registry): opens their windows."""

    decision: DecisionRefIn
    stage_id: uuid.UUID
    programme_id: uuid.UUID | None = None
    teams: list[TeamOutcomeIn] = Field(min_length=1, max_length=200)
    notified_at: AwareDatetime | None = Field(default=None, description="Default: now (the service's clock)")
    objection_days: int = Field(default=DEFAULT_OBJECTION_DAYS, ge=1, le=MAX_OBJECTION_DAYS)

    @model_validator(mode="after")
    def _stage_result_is_the_stage(self) -> NotifyIn:
        if self.decision.kind == DecisionKind.STAGE_RESULT and self.decision.id != self.stage_id:
            raise ValueError("a stage result's decision id is its stage id")
        if len({t.team_id for t in self.teams}) != len(self.teams):
            raise ValueError("a team is listed twice")
        return self


class NotificationOut(BaseModel):
    id: uuid.UUID
    decision: DecisionRef
    stage_id: uuid.UUID
    programme_id: uuid.UUID | None
    team_id: uuid.UUID
    outcome: str | None
    reason_code: str | None
    notified_at: AwareDatetime
    window: WindowOut
    window_closed: bool = Field(description="The scheduler recorded the window's closing")
    round: int = Field(default=1, description="The decision's grievance round (1 first)")
    result_version: int | None = Field(
        default=None, description="For a stage result: the result version the team was told of"
    )
    supersedes_notification_id: uuid.UUID | None = Field(
        default=None, description="The team's earlier notification that this one replaces (kept unchanged)"
    )
    superseded_by_notification_id: uuid.UUID | None = Field(
        default=None, description="The team's later notification that replaced this one"
    )
    current: bool = Field(
        default=True, description="The team's latest notification of the decision: the decision in force"
    )
    reopening_id: uuid.UUID | None = Field(
        default=None, description="Set when the reopening of a final stage opened this window"
    )


class NotificationList(BaseModel):
    items: list[NotificationOut]


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")
