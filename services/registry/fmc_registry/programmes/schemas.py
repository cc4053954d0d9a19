from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from fmc_common.inputs import MAX_WON, Input, Name
from fmc_registry.lifecycle import StageStatus
from fmc_registry.programmes.models import Stage
from fmc_registry.programmes.schedule import objection_deadline


class ProgrammeCreate(Input):
    name: Name
    budget_won: int = Field(ge=1, le=MAX_WON, description="Total support budget, integer won")


class ProgrammeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    budget_won: int
    created_at: datetime


class ProgrammePage(BaseModel):
    items: list[ProgrammeOut]
    next_cursor: str | None


class StageCreate(Input):
    number: int = Field(ge=1, le=20)
    name: Name
    planned_advancing: int = Field(ge=0, le=1000, description="How many teams should advance")
    evaluation_starts_at: AwareDatetime
    evaluation_ends_at: AwareDatetime
    notification_at: AwareDatetime
    objection_days: int = Field(
        default=10,
        ge=1,
        le=60,
        description="Days teams have to object once notified (the day of notification not counted)",
    )

    @model_validator(mode="after")
    def ordered(self) -> StageCreate:
        if not self.evaluation_starts_at < self.evaluation_ends_at <= self.notification_at:
            raise ValueError("need evaluation_starts_at < evaluation_ends_at <= notification_at")
        return self


class StageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    programme_id: uuid.UUID
    number: int
    name: str
    planned_advancing: int
    evaluation_starts_at: datetime
    evaluation_ends_at: datetime
    notification_at: datetime
    objection_days: int
    objection_deadline: str = Field(description="End of the objection window, Asia/Seoul (RFC 3339)")
    status: StageStatus
    status_changed_at: datetime
    evaluation_started_at: datetime | None

    @classmethod
    def of(cls, stage: Stage) -> StageOut:
        deadline = objection_deadline(stage.notification_at, stage.objection_days)
        return cls.model_validate(
            {
                **{c.key: getattr(stage, c.key) for c in Stage.__table__.columns},
                "objection_deadline": deadline.isoformat(),
            }
        )
