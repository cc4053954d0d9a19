from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.db import StrEnumColumn, UtcDateTime
from fmc_scoring.base import Base
from fmc_scoring.values import ChoiceScoring, Normalisation


class StageCriteria(Base):
    """The rules of a stage, as agreed with the teams. ``frozen_at`` set: no change is accepted."""

    __tablename__ = "stage_criteria"

    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    advancing: Mapped[int] = mapped_column(Integer)
    weight_benchmark: Mapped[float] = mapped_column(Float)
    weight_expert: Mapped[float] = mapped_column(Float)
    weight_user: Mapped[float] = mapped_column(Float)
    overall_threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    tie_break: Mapped[list[str]] = mapped_column(JSON)
    decoding: Mapped[dict[str, Any]] = mapped_column(JSON)
    limits: Mapped[dict[str, Any]] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    frozen_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # The evaluation's close: evidence recorded after it is kept, marked out of window, never counted.
    # None in the criteria: fixed when the stage's first result version is published (to the instant
    # that version's evidence was gathered), so a published result's evidence never grows afterwards.
    evidence_cutoff: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    evidence_cutoff_source: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Counted arena votes each evaluated model needs before a result with a user part is proposed.
    arena_min_votes: Mapped[int] = mapped_column(Integer, server_default="30", default=30)


class StageSuite(Base):
    """A suite of the stage with its weight in the benchmark part and its own minimum accuracy."""

    __tablename__ = "stage_criteria_suites"

    stage_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("stage_criteria.stage_id", ondelete="CASCADE"), primary_key=True
    )
    suite_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("suites.id"), primary_key=True)
    weight: Mapped[float] = mapped_column(Float)
    min_accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    scoring: Mapped[ChoiceScoring | None] = mapped_column(StrEnumColumn(ChoiceScoring, 16), nullable=True)
    """How the suite's multiple-choice items are asked and graded; null: ``generate``."""
    normalisation: Mapped[Normalisation | None] = mapped_column(
        StrEnumColumn(Normalisation, 16), nullable=True
    )
    """For ``loglikelihood``: how the choices' log-likelihoods are compared."""
    samples: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Executed code: samples per item (runs of the suite with distinct seeds); null: one."""
    pass_k: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """Executed code: the k of pass@k (at most ``samples``); null: pass@1."""
