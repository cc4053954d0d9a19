from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.db import UtcDateTime
from fmc_registry.base import Base


class TeamStatus(StrEnum):
    APPLICANT = "applicant"


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    lead_organisation: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32))
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)
