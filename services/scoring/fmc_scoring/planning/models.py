from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.db import StrEnumColumn, UtcDateTime
from fmc_common.events.registry import TritonEndpoint
from fmc_scoring.base import Base


class Evaluation(Base):
    """A stage whose evaluation started (from the registry's ``EvaluationStarted``)."""

    __tablename__ = "evaluations"

    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    programme_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    stage_number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    planned_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The stage's objection window, passed on to grievance in StageResultsPublished.
    objection_days: Mapped[int] = mapped_column(Integer, default=10, server_default="10")


class EvaluatedSubmission(Base):
    """A frozen submission: the only model of its team evaluated in the stage."""

    __tablename__ = "evaluated_submissions"

    stage_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("evaluations.stage_id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    submission_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    version: Mapped[int] = mapped_column(Integer)
    endpoint: Mapped[dict[str, Any]] = mapped_column(JSON)
    manifest_digest: Mapped[str] = mapped_column(String(71))

    def served_by(self) -> TritonEndpoint:
        """The endpoint as the registry froze it (stored with ``model_dump``)."""
        return TritonEndpoint.model_validate(self.endpoint)


class RunStatus(StrEnum):
    REQUESTED = "requested"
    COMPLETED = "completed"
    FAILED = "failed"
    GRADED = "graded"


class PlannedRun(Base):
    """One gateway run: a submission answering one suite's items."""

    __tablename__ = "planned_runs"
    __table_args__ = (UniqueConstraint("stage_id", "submission_id", "suite_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    team_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    submission_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    suite_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("suites.id"))
    status: Mapped[RunStatus] = mapped_column(StrEnumColumn(RunStatus, 32))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    responses_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    failure_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class SampleRun(Base):
    """One more gateway run of a planned run's suite, for pass@k over several samples per item
    (executed code, docs/scoring.md): sample ``s`` (1 to n-1; the planned run is sample 0) asks the
    same items with the stage's decoding seed plus ``s``. The planned run is graded once every
    sample completed."""

    __tablename__ = "sample_runs"
    __table_args__ = (UniqueConstraint("team_run_id", "sample"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_run_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("planned_runs.id", ondelete="CASCADE"), index=True
    )
    sample: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    status: Mapped[RunStatus] = mapped_column(StrEnumColumn(RunStatus, 32))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    responses_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
