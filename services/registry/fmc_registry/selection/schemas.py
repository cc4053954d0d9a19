from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from fmc_common.inputs import Input, Reason
from fmc_registry.selection.models import CallStatus, EligibilityBasis


class EligibleTeam(BaseModel):
    team_id: uuid.UUID
    basis: EligibilityBasis


class ApplicationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    call_id: uuid.UUID
    team_id: uuid.UUID
    basis: EligibilityBasis
    applied_at: datetime
    selected: bool


class CallOut(BaseModel):
    id: uuid.UUID
    programme_id: uuid.UUID
    stage_id: uuid.UUID
    vacancies: int
    status: CallStatus
    opened_at: datetime
    closed_at: datetime | None
    eligible: list[EligibleTeam]
    applications: list[ApplicationOut]


class ApplicationCreate(Input):
    team_id: uuid.UUID


class SelectionCreate(Input):
    team_id: uuid.UUID
    reason: Reason


class SelectionOut(BaseModel):
    call_id: uuid.UUID
    team_id: uuid.UUID
    team_status: str
    gpu_allocation_id: uuid.UUID | None
    gpu_refusal: str | None
