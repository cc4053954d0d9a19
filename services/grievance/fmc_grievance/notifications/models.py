from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.db import StrEnumColumn, UtcDateTime
from fmc_common.events.grievance import DecisionKind
from fmc_grievance.base import Base


class Outcome(StrEnum):
    """What the decision meant for the team (a stage result, or a selection decision)."""

    ADVANCED = "advanced"
    ELIMINATED = "eliminated"
    SELECTED = "selected"
    NOT_SELECTED = "not-selected"


class Notification(Base):
    """A team was told of a decision at ``notified_at``; its objection window runs until ``closes_at``.

    One per team and decision. The window's bounds are stored as computed when the notification was
    recorded, so a later change of the rule never moves a deadline already announced.
    """

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("decision_kind", "decision_id", "team_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    decision_kind: Mapped[DecisionKind] = mapped_column(StrEnumColumn(DecisionKind, 32))
    decision_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    programme_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    team_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    outcome: Mapped[Outcome | None] = mapped_column(StrEnumColumn(Outcome, 32), nullable=True)
    reason_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    notified_at: Mapped[datetime] = mapped_column(UtcDateTime)
    objection_days: Mapped[int] = mapped_column(Integer)
    last_day: Mapped[date] = mapped_column(Date)
    closes_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
