"""Tables of the originality check: the reference library of donor models, and checks with their reports."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.db import StrEnumColumn, UtcDateTime
from fmc_common.events.vocabulary import Verdict
from fmc_scoring.base import Base


class CheckStatus(StrEnum):
    COMPLETED = "completed"


class DonorModel(Base):
    """A known public model at a pinned revision. Its raw weights are not kept: only fingerprints."""

    __tablename__ = "originality_donors"
    __table_args__ = (UniqueConstraint("name", "revision"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    revision: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(1000))
    tensor_count: Mapped[int] = mapped_column(Integer)
    parameter_count: Mapped[int] = mapped_column(BigInteger)
    spaces: Mapped[str] = mapped_column(String(4000))
    config_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tokenizer_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    registered_by: Mapped[str] = mapped_column(String(200))
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # A donor wrongly in the library (e.g. a team's own earlier release) is retired, with a reason:
    # later checks do not compare with it; the checks that did keep their reports.
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    retired_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    retirement_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class DonorTensor(Base):
    """One donor tensor: name, shape, dtype, hashes, and its compact statistics (an ``.npz`` blob)."""

    __tablename__ = "originality_donor_tensors"

    donor_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("originality_donors.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(500), primary_key=True)
    key: Mapped[str] = mapped_column(String(500))
    module: Mapped[str] = mapped_column(String(200))
    dtype: Mapped[str] = mapped_column(String(16))
    shape: Mapped[list[int]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    canonical: Mapped[list[str]] = mapped_column(JSON)
    hidden_axis: Mapped[int | None] = mapped_column(Integer, nullable=True)
    statistics: Mapped[bytes] = mapped_column(LargeBinary)


class OriginalityCheck(Base):
    """A check of one team's submitted weights, with its verdict and full report.

    Since checks are bound to submissions, ``weights_path`` is the submission's weights location (as the
    registry states it), ``manifest_digest`` the frozen manifest the files were verified against, and a
    later check of the same team in the stage is a re-check (``recheck_of``, with its ``reason``): the
    latest one decides.
    """

    __tablename__ = "originality_checks"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    team_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    submission_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    weights_path: Mapped[str] = mapped_column(String(1000))
    status: Mapped[CheckStatus] = mapped_column(StrEnumColumn(CheckStatus, 32))
    verdict: Mapped[Verdict] = mapped_column(StrEnumColumn(Verdict, 32))
    summary: Mapped[str] = mapped_column(String(2000))
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    requested_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    manifest_digest: Mapped[str | None] = mapped_column(String(71), nullable=True)
    recheck_of: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
