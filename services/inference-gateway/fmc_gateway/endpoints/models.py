from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.db import StrEnumColumn, UtcDateTime
from fmc_common.events.inference import GpuPool, InferenceProtocol, ServingConvention
from fmc_gateway.base import Base


class Endpoint(Base):
    """A Triton endpoint serving one team's model: from a submission event or a run request."""

    __tablename__ = "endpoints"
    __table_args__ = (UniqueConstraint("url", "protocol", "model_name", "model_version"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    protocol: Mapped[InferenceProtocol] = mapped_column(StrEnumColumn(InferenceProtocol, 8))
    model_name: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str] = mapped_column(String(50))
    gpu_pool: Mapped[GpuPool] = mapped_column(StrEnumColumn(GpuPool, 8))
    # How the model is served (docs/triton-contract.md); follows the latest registration, like the pool.
    convention: Mapped[ServingConvention] = mapped_column(
        StrEnumColumn(ServingConvention, 32), default=ServingConvention.FMC_TEXT
    )
    team_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    submission_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    model_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """``loaded`` while the gateway keeps the model loaded on its pool (explicit model control,
    ``fmc_gateway.runs.loading``); null: the gateway has not loaded it (or unloaded it)."""
    model_state_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_check_ok: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    last_check_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    server_version: Mapped[str | None] = mapped_column(String(50), nullable=True)
