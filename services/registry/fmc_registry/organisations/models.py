from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.db import StrEnumColumn, UtcDateTime
from fmc_registry.base import Base


class OrganisationKind(StrEnum):
    COMPANY = "company"
    UNIVERSITY = "university"
    INSTITUTE = "institute"


class ProgrammeRole(StrEnum):
    """What an organisation is in a programme; one organisation may hold several roles."""

    APPLICANT = "applicant"
    CONSORTIUM_LEAD = "consortium-lead"
    CONSORTIUM_MEMBER = "consortium-member"
    GPU_SUPPLIER = "gpu-supplier"


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(StrEnumColumn(OrganisationKind, 32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OrganisationRole(Base):
    __tablename__ = "organisation_roles"

    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id"), primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    role: Mapped[ProgrammeRole] = mapped_column(StrEnumColumn(ProgrammeRole, 32), primary_key=True)
