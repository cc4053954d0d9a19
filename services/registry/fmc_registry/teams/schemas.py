from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fmc_common.inputs import Input, Name, Reason
from fmc_registry.lifecycle import EliminationReason, TeamStatus


class TeamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, examples=["LG AI Research consortium"])
    lead_organisation: str = Field(min_length=1, max_length=200, examples=["LG AI Research"])
    programme_id: uuid.UUID | None = None
    members: list[Name] = Field(default_factory=list, max_length=50, description="Member organisations")
    applicant_rank: int | None = Field(
        default=None, ge=1, le=1000, description="Rank in the selection round (confidential)"
    )
    preliminary_review: bool = Field(default=False, description="Took part in the preliminary review")
    talent_support_applied: bool = Field(default=False, description="Applied for talent support")

    @field_validator("name", "lead_organisation")
    @classmethod
    def printable(cls, value: str) -> str:
        if not value.isprintable():
            raise ValueError("must not contain control characters")
        return value


class MemberOut(BaseModel):
    organisation_id: uuid.UUID
    name: str
    role: str


class TeamOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    lead_organisation: str
    status: str
    registered_at: datetime
    programme_id: uuid.UUID | None = None
    lead_organisation_id: uuid.UUID | None = None
    stage_number: int | None = None
    elimination_reason: str | None = None
    applicant_rank: int | None = None
    preliminary_review: bool = False
    talent_support_applied: bool = False
    status_changed_at: datetime | None = None


class TeamDetail(TeamOut):
    members: list[MemberOut] = Field(default_factory=list)


class TeamPage(BaseModel):
    items: list[TeamOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class PublicTeamOut(BaseModel):
    """What anyone may read: names and where the team stands. No rank, no score."""

    id: uuid.UUID
    name: str
    lead_organisation: str
    public_status: str


class PublicTeamPage(BaseModel):
    items: list[PublicTeamOut]
    next_cursor: str | None


class StatusChange(Input):
    to: TeamStatus
    reason: Reason
    stage_number: int | None = Field(default=None, ge=1, le=20, description="Needed to enter a stage")
    reason_code: EliminationReason | None = Field(default=None, description="Needed for an elimination")
