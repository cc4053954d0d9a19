from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from fmc_common.events.grievance import ObjectionGrounds, ObjectionOutcome, ReEvaluationConcern
from fmc_common.inputs import Input, Reason
from fmc_grievance.decisions import DecisionRef, DecisionRefIn
from fmc_grievance.objections.models import ObjectionStatus
from fmc_grievance.windows.schemas import WindowOut

SHA256_HEX = r"^[0-9a-f]{64}$"
# Base64 of the largest attachment the settings may allow (20 MiB), rounded up; the settings'
# (smaller) limits are applied to the decoded bytes.
MAX_BASE64 = 28 * 1024 * 1024
# A withdrawal's or a decision's reason: a word or two is not a reason, so narrower than the common bound.
DecisionReason = Annotated[Reason, Field(min_length=10, max_length=4000)]
Statement = Annotated[str, Field(min_length=1, max_length=20_000)]


class AttachmentIn(Input):
    """Either new content (base64), or the sha256 of an attachment already on this objection."""

    name: str = Field(min_length=1, max_length=200, examples=["evidence.pdf"])
    media_type: str = Field(min_length=1, max_length=100, examples=["application/pdf"])
    content_base64: str | None = Field(default=None, max_length=MAX_BASE64)
    sha256: str | None = Field(default=None, pattern=SHA256_HEX)

    @model_validator(mode="after")
    def _one_source(self) -> AttachmentIn:
        if (self.content_base64 is None) == (self.sha256 is None):
            raise ValueError("give exactly one of content_base64 and sha256")
        return self


class ObjectionContent(Input):
    grounds: ObjectionGrounds
    statement: Statement
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)


class ObjectionCreate(ObjectionContent):
    decision: DecisionRefIn


class ObjectionAmend(ObjectionContent):
    """A complete new version: it replaces the current content; earlier versions stay readable."""


class Withdrawal(Input):
    reason: DecisionReason


class ReviewStart(Input):
    note: str | None = Field(default=None, max_length=4000)


class DecisionIn(Input):
    # Members of the enum as a Literal: the published schema lists the values in place.
    outcome: Literal[ObjectionOutcome.ACCEPTED, ObjectionOutcome.REJECTED]
    reason: DecisionReason = Field(
        description="The written reason, given to the team (at least 10 characters)"
    )
    concerns: list[ReEvaluationConcern] | None = Field(
        default=None,
        min_length=1,
        max_length=4,
        description=(
            "For an accepted objection: what scoring must re-evaluate. Defaults: process-defect → process, "
            "originality-judgement → originality; required for scoring-error (benchmark-suite and/or "
            "expert-panel); an accepted 'other' objection asks for no re-evaluation unless given."
        ),
    )


class AttachmentOut(BaseModel):
    name: str
    media_type: str
    size: int
    sha256: str


class VersionOut(BaseModel):
    version: int
    grounds: ObjectionGrounds
    statement: str
    attachments: list[AttachmentOut]
    created_at: datetime
    created_by: str


class ReEvaluationOut(BaseModel):
    request_id: uuid.UUID
    concerns: list[ReEvaluationConcern]
    requested_at: datetime


class ResolutionOut(BaseModel):
    outcome: Literal[ObjectionOutcome.ACCEPTED, ObjectionOutcome.REJECTED, ObjectionOutcome.WITHDRAWN]
    reason: str
    decided_at: datetime
    decided_by: str
    re_evaluation: ReEvaluationOut | None = None


class ObjectionOut(BaseModel):
    id: uuid.UUID
    team_id: uuid.UUID
    decision: DecisionRef
    stage_id: uuid.UUID
    status: ObjectionStatus
    current_version: int
    grounds: ObjectionGrounds
    statement: str
    attachments: list[AttachmentOut]
    filed_at: datetime
    updated_at: datetime
    review_started_at: datetime | None
    resolution: ResolutionOut | None
    window: WindowOut = Field(description="The team's objection window for this decision")


class ObjectionSummary(BaseModel):
    id: uuid.UUID
    team_id: uuid.UUID
    decision: DecisionRef
    stage_id: uuid.UUID
    status: ObjectionStatus
    current_version: int
    filed_at: datetime
    updated_at: datetime


class ObjectionPage(BaseModel):
    items: list[ObjectionSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class VersionList(BaseModel):
    items: list[VersionOut]
