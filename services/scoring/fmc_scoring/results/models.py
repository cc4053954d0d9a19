"""Result versions of a stage, each with one row per team. Earlier versions are never changed."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.db import StrEnumColumn, UtcDateTime
from fmc_common.events.vocabulary import Outcome, Reason
from fmc_scoring.base import Base


class ResultStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    SUPERSEDED = "superseded"


class Cause(StrEnum):
    """Why a version was proposed."""

    INITIAL = "initial"
    RE_EVALUATION = "re-evaluation"


class StageResult(Base):
    __tablename__ = "stage_results"
    __table_args__ = (UniqueConstraint("stage_id", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[ResultStatus] = mapped_column(StrEnumColumn(ResultStatus, 32))
    cause: Mapped[Cause] = mapped_column(StrEnumColumn(Cause, 32))
    cause_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    cause_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    advancing_planned: Mapped[int] = mapped_column(Integer)
    advancing: Mapped[int] = mapped_column(Integer)
    vacancies: Mapped[int] = mapped_column(Integer)
    blocking: Mapped[list[str]] = mapped_column(JSON)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    proposed_by: Mapped[str] = mapped_column(String(200))
    proposed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finalized_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class TeamResult(Base):
    """One team in one result version: outcome and reason, and the figures behind them."""

    __tablename__ = "team_results"

    result_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("stage_results.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    outcome: Mapped[Outcome] = mapped_column(StrEnumColumn(Outcome, 16))
    reason: Mapped[Reason | None] = mapped_column(StrEnumColumn(Reason, 64), nullable=True)
    rank: Mapped[int | None] = mapped_column(Integer, nullable=True)
    composite: Mapped[float | None] = mapped_column(Float, nullable=True)
    benchmark: Mapped[float | None] = mapped_column(Float, nullable=True)
    expert: Mapped[float | None] = mapped_column(Float, nullable=True)
    user: Mapped[float | None] = mapped_column(Float, nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
