from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from fmc_common.inputs import Input, Name
from fmc_registry.organisations.models import OrganisationKind, ProgrammeRole


class OrganisationCreate(Input):
    name: Name
    kind: OrganisationKind = OrganisationKind.COMPANY


class OrganisationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: OrganisationKind
    created_at: datetime


class OrganisationPage(BaseModel):
    items: list[OrganisationOut]
    next_cursor: str | None


class RoleGrant(Input):
    organisation_id: uuid.UUID
    role: ProgrammeRole


class RoleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    programme_id: uuid.UUID
    organisation_id: uuid.UUID
    role: ProgrammeRole
