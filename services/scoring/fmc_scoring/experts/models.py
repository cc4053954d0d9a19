from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.db import UtcDateTime
from fmc_scoring.base import Base


class ExpertPanel(Base):
    """A stage's panel: scores are accepted until ``deadline`` (exclusive)."""

    __tablename__ = "expert_panels"

    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    deadline: Mapped[datetime] = mapped_column(UtcDateTime)
    opened_by: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PanelEvaluator(Base):
    """An evaluator assigned to a stage (``subject`` of their token), with their affiliations."""

    __tablename__ = "panel_evaluators"

    stage_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("expert_panels.stage_id", ondelete="CASCADE"), primary_key=True
    )
    subject: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    affiliations: Mapped[list[str]] = mapped_column(JSON)
    declared_conflicts: Mapped[list[str]] = mapped_column(JSON)


class ExpertScore(Base):
    """One evaluator's rubric score of one team (0-100 per criterion, with a comment). Kept forever."""

    __tablename__ = "expert_scores"
    __table_args__ = (UniqueConstraint("stage_id", "team_id", "evaluator"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    team_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    evaluator: Mapped[str] = mapped_column(String(200))
    technical_originality: Mapped[float] = mapped_column(Float)
    technological_capability: Mapped[float] = mapped_column(Float)
    readiness: Mapped[float] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ScoreAmendment(Base):
    """A correction of an expert score by the evaluator who gave it, with a reason. The score row is
    kept as given; the latest applicable amendment's values count in its place."""

    __tablename__ = "expert_score_amendments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    score_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("expert_scores.id", ondelete="CASCADE"), index=True
    )
    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    team_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    evaluator: Mapped[str] = mapped_column(String(200))
    technical_originality: Mapped[float] = mapped_column(Float)
    technological_capability: Mapped[float] = mapped_column(Float)
    readiness: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    amended_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ConflictDeclaration(Base):
    """An evaluator's own declaration of a conflict of interest with a team of the stage, with a reason.

    Kept apart from the operators' list on ``PanelEvaluator`` (which ``PUT .../panel`` replaces), so
    that setting the panel again never drops it; nobody can withdraw it through the API. A score the
    evaluator had already given the team is withdrawn by it (``withdrawn_score_id``): kept as given,
    never counted from the declaration on (see ``service.panel_evidence`` for the cut-off)."""

    __tablename__ = "panel_conflict_declarations"
    __table_args__ = (UniqueConstraint("stage_id", "evaluator", "team_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    evaluator: Mapped[str] = mapped_column(String(200))
    team_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    reason: Mapped[str] = mapped_column(Text)
    declared_at: Mapped[datetime] = mapped_column(UtcDateTime)
    withdrawn_score_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("expert_scores.id", ondelete="CASCADE"), nullable=True
    )
