"""Grades: per run (accuracy and its interval) and per item (with the stored response, so that
grading again from stored inputs gives the same numbers)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.db import StrEnumColumn, UtcDateTime
from fmc_scoring.base import Base
from fmc_scoring.grading.grader import GradeReason


class RunGrade(Base):
    __tablename__ = "run_grades"

    run_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("planned_runs.id", ondelete="CASCADE"), primary_key=True
    )
    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    team_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    suite_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    items: Mapped[int] = mapped_column(Integer)
    correct: Mapped[float] = mapped_column(Float)
    errored: Mapped[int] = mapped_column(Integer)
    accuracy: Mapped[float] = mapped_column(Float)
    ci_low: Mapped[float] = mapped_column(Float)
    ci_high: Mapped[float] = mapped_column(Float)
    level: Mapped[float] = mapped_column(Float)
    rounds: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    responses_sha256: Mapped[str] = mapped_column(String(64))
    # The revision of the suite's answer key the run was graded under (1: as the suite was created).
    key_revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    graded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ItemGradeRow(Base):
    __tablename__ = "item_grades"

    run_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("planned_runs.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    response: Mapped[str | None] = mapped_column(Text, nullable=True)
    correct: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    """The item's credit in [0, 1] for kinds graded on a scale; null for right-or-wrong kinds."""
    reason: Mapped[GradeReason] = mapped_column(StrEnumColumn(GradeReason, 32))
    extracted: Mapped[str | None] = mapped_column(String(200), nullable=True)


class ItemSample(Base):
    """One sample's response to one item of a run graded by pass@k, and whether its code passed:
    the item's grade (``ItemGradeRow``, sample 0's response, the pass@k estimate as its score) is
    recomputed from these."""

    __tablename__ = "item_samples"

    run_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("planned_runs.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    sample: Mapped[int] = mapped_column(Integer, primary_key=True)
    response: Mapped[str | None] = mapped_column(Text, nullable=True)
    passed: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[GradeReason] = mapped_column(StrEnumColumn(GradeReason, 32))
