"""A suite's judge (versioned), the judge runs scoring requests, and every judgement read.

``suite_judges`` keeps every revision of a suite's judge (endpoint, template, rubric, mode): the run
records the revision it was judged under, as a grade records its key revision. ``judgements`` keeps
the judge's raw output beside what was parsed from it, per attempt, so that a grade can be
recomputed from stored data and an unparsable judgement can be shown for what it was.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.db import StrEnumColumn, UtcDateTime
from fmc_scoring.base import Base
from fmc_scoring.judging.verdicts import JudgeMode, Outcome, Position


class SuiteJudge(Base):
    """One revision of a suite's judge: identical for every team that answers the suite."""

    __tablename__ = "suite_judges"

    suite_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("suites.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[JudgeMode] = mapped_column(StrEnumColumn(JudgeMode, 16))
    endpoint: Mapped[dict[str, Any]] = mapped_column(JSON)
    template: Mapped[str] = mapped_column(Text)
    template_version: Mapped[str] = mapped_column(String(50))
    rubric: Mapped[str] = mapped_column(Text)
    max_tokens: Mapped[int] = mapped_column(Integer)
    max_attempts: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class JudgeRunStatus(StrEnum):
    REQUESTED = "requested"
    COMPLETED = "completed"
    FAILED = "failed"


class JudgeRun(Base):
    """A gateway run of the judge over one team run's answers (one attempt: the first asks every
    judgement, a retry only those still unparsable). Its items document is stored as served."""

    __tablename__ = "judge_runs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_run_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("planned_runs.id", ondelete="CASCADE"), index=True
    )
    suite_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    judge_revision: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer)
    item_count: Mapped[int] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(Text)
    items_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[JudgeRunStatus] = mapped_column(StrEnumColumn(JudgeRunStatus, 16))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class Judgement(Base):
    """One judgement of one item of a team run, at one position, in one attempt."""

    __tablename__ = "judgements"

    team_run_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("planned_runs.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    position: Mapped[Position] = mapped_column(StrEnumColumn(Position, 16), primary_key=True)
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True)
    judge_run_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    raw_output: Mapped[str | None] = mapped_column(Text, nullable=True)
    parsed: Mapped[bool] = mapped_column(Boolean)
    rating: Mapped[float | None] = mapped_column(Float, nullable=True)
    outcome: Mapped[Outcome | None] = mapped_column(StrEnumColumn(Outcome, 16), nullable=True)
