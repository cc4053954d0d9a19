from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.db import UtcDateTime
from fmc_scoring.base import Base


class Participant(Base):
    """A team recorded from ``TeamRegistered``; ``correlation_id`` ties it to the request that caused it."""

    __tablename__ = "participants"

    team_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    lead_organisation: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    correlation_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
