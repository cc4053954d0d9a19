from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.db import StrEnumColumn, UtcDateTime
from fmc_common.events.inference import ServingConvention
from fmc_registry.base import Base


class Protocol(StrEnum):
    HTTP = "http"
    GRPC = "grpc"


class GpuPool(StrEnum):
    H100 = "H100"
    B200 = "B200"


class Submission(Base):
    """One version of a team's model for a stage: its Triton endpoint, weights manifest and model card."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("stage_id", "team_id", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    stage_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stages.id"), index=True)
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    endpoint_url: Mapped[str] = mapped_column(String(500))
    model_name: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str] = mapped_column(String(50))
    protocol: Mapped[Protocol] = mapped_column(StrEnumColumn(Protocol, 8))
    gpu_pool: Mapped[GpuPool] = mapped_column(StrEnumColumn(GpuPool, 8))
    # How the gateway talks to the model (docs/triton-contract.md).
    convention: Mapped[ServingConvention] = mapped_column(
        StrEnumColumn(ServingConvention, 32), default=ServingConvention.FMC_TEXT
    )
    # The chat template the gateway renders chat items with (raw-text conventions; None: no template).
    chat_template: Mapped[str | None] = mapped_column(String(64), nullable=True)
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    manifest_digest: Mapped[str] = mapped_column(String(71))
    model_card: Mapped[dict[str, Any]] = mapped_column(JSON)
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set on the latest version of each team when the evaluation starts: the evaluation's inputs.
    frozen_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Statement(Base):
    """An explanatory statement from a team. One sent after the evaluation began is kept, flagged late,
    and never becomes an evaluation input."""

    __tablename__ = "statements"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    stage_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stages.id"), index=True)
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    late: Mapped[bool] = mapped_column(Boolean)
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime)
