from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.db import StrEnumColumn, UtcDateTime
from fmc_registry.base import Base


class CallStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class EligibilityBasis(StrEnum):
    """Why a team may apply to an additional selection."""

    ELIMINATED_IN_STAGE = "eliminated-in-stage"
    PRELIMINARY_REVIEW = "preliminary-review"
    # "companies that participated in the call for proposals earlier": the programme's other
    # applicants, not selected and not among the preliminary-review consortia.
    EARLIER_APPLICANT = "earlier-applicant"
    NEW_APPLICANT = "new-applicant"


class SelectionCall(Base):
    """An additional selection opened because fewer teams advanced from a stage than planned."""

    __tablename__ = "selection_calls"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id"), index=True)
    stage_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stages.id"), unique=True)
    vacancies: Mapped[int] = mapped_column(Integer)
    status: Mapped[CallStatus] = mapped_column(StrEnumColumn(CallStatus, 16))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class SelectionEligibility(Base):
    """The eligible teams known when the call opened (new applicants are judged when they apply)."""

    __tablename__ = "selection_eligibility"

    call_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("selection_calls.id"), primary_key=True)
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    basis: Mapped[EligibilityBasis] = mapped_column(StrEnumColumn(EligibilityBasis, 32))


class SelectionApplication(Base):
    __tablename__ = "selection_applications"

    call_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("selection_calls.id"), primary_key=True)
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    basis: Mapped[EligibilityBasis] = mapped_column(StrEnumColumn(EligibilityBasis, 32))
    applied_at: Mapped[datetime] = mapped_column(UtcDateTime)
    selected: Mapped[bool] = mapped_column(Boolean, default=False)
