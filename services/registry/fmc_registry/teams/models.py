from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, Uuid, false
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.db import StrEnumColumn, UtcDateTime
from fmc_registry.base import Base
from fmc_registry.lifecycle import EliminationReason, TeamStatus

__all__ = ["MemberRole", "Team", "TeamMember", "TeamStatus"]


class MemberRole(StrEnum):
    LEAD = "lead"
    MEMBER = "member"


class Team(Base):
    """A consortium (a lead organisation and members) and where it stands in its programme."""

    __tablename__ = "teams"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    lead_organisation: Mapped[str] = mapped_column(String(200))
    status: Mapped[TeamStatus] = mapped_column(StrEnumColumn(TeamStatus, 32))
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    programme_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("programmes.id"), nullable=True, index=True
    )
    lead_organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisations.id"), nullable=True
    )
    # The stage the team is in, advanced from, or was eliminated in.
    stage_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    elimination_reason: Mapped[EliminationReason | None] = mapped_column(
        StrEnumColumn(EliminationReason, 32), nullable=True
    )
    # Confidential: the selection round's rank is never shown to the public or other teams.
    applicant_rank: Mapped[int | None] = mapped_column(Integer, nullable=True)
    preliminary_review: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    talent_support_applied: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    status_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    role: Mapped[MemberRole] = mapped_column(StrEnumColumn(MemberRole, 16))
