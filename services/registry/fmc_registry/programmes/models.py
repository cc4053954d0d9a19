from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.db import StrEnumColumn, UtcDateTime
from fmc_registry.base import Base
from fmc_registry.lifecycle import StageStatus


class Programme(Base):
    __tablename__ = "programmes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    budget_won: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Stage(Base):
    __tablename__ = "stages"
    __table_args__ = (UniqueConstraint("programme_id", "number"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    planned_advancing: Mapped[int] = mapped_column(Integer)
    evaluation_starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    evaluation_ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    notification_at: Mapped[datetime] = mapped_column(UtcDateTime)
    objection_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[StageStatus] = mapped_column(StrEnumColumn(StageStatus, 32))
    status_changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    evaluation_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
