from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.db import StrEnumColumn, UtcDateTime
from fmc_registry.base import Base


class PoolKind(StrEnum):
    JOINT_DATA_PURCHASE = "joint-data-purchase"
    SPECIALISED_DATASETS = "specialised-datasets"
    BROADCASTING_VIDEO = "broadcasting-video"
    TALENT = "talent"


class GpuModel(StrEnum):
    H100 = "H100"
    B200 = "B200"


class SupportPool(Base):
    """Money set aside in a programme for one kind of support (integer won)."""

    __tablename__ = "support_pools"
    __table_args__ = (UniqueConstraint("programme_id", "kind"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id"), index=True)
    kind: Mapped[PoolKind] = mapped_column(StrEnumColumn(PoolKind, 32))
    amount_won: Mapped[int] = mapped_column(BigInteger)
    per_team_cap_won: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SupportAllocation(Base):
    __tablename__ = "support_allocations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    pool_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("support_pools.id"), index=True)
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id"), index=True)
    amount_won: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(500))
    allocated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class GpuPackage(Base):
    """What a programme offers a team: e.g. 512 B200 or 1,024 H100."""

    __tablename__ = "gpu_packages"
    __table_args__ = (UniqueConstraint("programme_id", "gpu_model"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id"), index=True)
    gpu_model: Mapped[GpuModel] = mapped_column(StrEnumColumn(GpuModel, 8))
    gpu_count: Mapped[int] = mapped_column(Integer)


class GpuSupplierContract(Base):
    """An organisation renting GPUs to the programme's teams; while it runs, its own team gets none."""

    __tablename__ = "gpu_contracts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id"), index=True)
    supplier_organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    gpu_model: Mapped[GpuModel] = mapped_column(StrEnumColumn(GpuModel, 8))
    rental_starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    rental_ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class GpuSupplierContractTeam(Base):
    __tablename__ = "gpu_contract_teams"

    contract_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("gpu_contracts.id"), primary_key=True)
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id"), primary_key=True)


class GpuAllocation(Base):
    __tablename__ = "gpu_allocations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id"), index=True)
    package_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("gpu_packages.id"))
    period_starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    period_ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    allocated_at: Mapped[datetime] = mapped_column(UtcDateTime)
