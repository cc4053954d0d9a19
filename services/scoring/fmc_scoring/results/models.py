"""Result versions of a stage, each with one row per team. Earlier versions are never changed."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
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
    # Proposed by an operator after reopening a final stage.
    REOPENING = "reopening"


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
    # The latest time this version was made final (again, after a reopening); the history is
    # ``stage_finalizations``.
    finalized_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Set on approval when the version replaces one in force: which, and the category of the cause
    # (``fmc_common.events.results.Correction``).
    corrects_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    correction: Mapped[str | None] = mapped_column(String(32), nullable=True)


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


class StageFinality(Base):
    """Whether a stage is final now: one row per stage with a published result.

    Changed only under the lock of the stage's evaluation row (``results/finality.py``)."""

    __tablename__ = "stage_finality"

    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    final: Mapped[bool] = mapped_column(Boolean)
    # The version made final last, and when.
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    finalized_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # The windows closed while a corrected version awaited approval: its approval finalises.
    pending_since: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # The latest reopening, if any (a closing of windows from before it is stale).
    reopened_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    reopening_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)


class StageFinalization(Base):
    """One finalisation of a stage (a stage reopened and finalised again has several)."""

    __tablename__ = "stage_finalizations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    version: Mapped[int] = mapped_column(Integer)
    # When the windows closed (as scoring learnt it), and when the stage became final: later when the
    # finalisation waited for the approval of a corrected version.
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finalized_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reopening_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)


class StageReopening(Base):
    """An operator reopened a final stage for a correction: who, when, why, and the version in force."""

    __tablename__ = "stage_reopenings"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    version: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    reopened_by: Mapped[str] = mapped_column(String(200))
    reopened_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ResultFeedback(Base):
    """Written feedback an operator gives one team on one result version (docs/decisions/
    2026-12-06-written-feedback-per-result-version.md). Each writing is a new revision; the team reads
    the latest revision of each published version, never before that version is published."""

    __tablename__ = "result_feedback"
    __table_args__ = (UniqueConstraint("result_id", "team_id", "revision"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    result_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("stage_results.id", ondelete="CASCADE"), index=True
    )
    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    version: Mapped[int] = mapped_column(Integer)
    team_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    revision: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    written_by: Mapped[str] = mapped_column(String(200))
    written_at: Mapped[datetime] = mapped_column(UtcDateTime)
