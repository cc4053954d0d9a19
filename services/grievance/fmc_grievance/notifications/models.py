from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint, Uuid
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

    At most one per team, decision and round. A team is notified again, in a new round, when a
    re-evaluation changes its outcome or reason (the new notification ``supersedes`` the earlier one,
    which is kept unchanged) and when a final stage is reopened; its latest notification is the
    decision in force for it. The window's bounds are stored as computed when the notification was
    recorded, so a later change of the rule never moves a deadline already announced.
    """

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("decision_kind", "decision_id", "team_id", "round"),)

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
    # The decision's grievance round (1 first); see closing/service.py for when a new one opens.
    round: Mapped[int] = mapped_column(Integer, default=1)
    # For a stage result: the result version the team was told of (None for an operator's notice).
    result_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("notifications.id"), nullable=True)
    # Set when the reopening of a final stage opened this window.
    reopening_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
