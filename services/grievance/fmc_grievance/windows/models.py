"""Closings: one row per closed window, one per decision round whose grievances are over.

They live with the windows, below notifications and objections, because both read them (a closed
window refuses filings; a closed decision refuses new notifications); the closing run writes them.
The primary keys make each closing happen at most once, however many times the scheduler runs,
restarts or runs in several replicas; the row is written in the same transaction as its audit
entry and (for a decision) its ``GrievanceWindowClosed`` outbox event.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.db import StrEnumColumn, UtcDateTime
from fmc_common.events.grievance import DecisionKind
from fmc_grievance.base import Base


class WindowClosing(Base):
    __tablename__ = "window_closings"

    notification_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notifications.id"), primary_key=True)
    closed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DecisionClosing(Base):
    """A decision's grievance phase closed, as of ``round`` (the latest round when it closed).

    A later round (a reversal, a reopening) closes again with a row of its own.
    """

    __tablename__ = "decision_closings"

    decision_kind: Mapped[DecisionKind] = mapped_column(StrEnumColumn(DecisionKind, 32), primary_key=True)
    decision_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    round: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    closed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    event_id: Mapped[str] = mapped_column(String(36))
