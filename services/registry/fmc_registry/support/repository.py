from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_registry.support.models import (
    GpuAllocation,
    GpuPackage,
    GpuSupplierContract,
    GpuSupplierContractTeam,
    SupportAllocation,
    SupportPool,
)


async def pool(session: AsyncSession, pool_id: uuid.UUID, *, lock: bool = False) -> SupportPool | None:
    query = select(SupportPool).where(SupportPool.id == pool_id)
    # Locking the pool serialises allocations from it, so two cannot overdraw it together.
    return await session.scalar(query.with_for_update() if lock else query)


async def pools_of(session: AsyncSession, programme_id: uuid.UUID) -> list[SupportPool]:
    query = select(SupportPool).where(SupportPool.programme_id == programme_id).order_by(SupportPool.kind)
    return list(await session.scalars(query))


async def pooled_total(session: AsyncSession, programme_id: uuid.UUID) -> int:
    query = select(func.coalesce(func.sum(SupportPool.amount_won), 0)).where(
        SupportPool.programme_id == programme_id
    )
    return int(await session.scalar(query) or 0)


async def allocated_from(session: AsyncSession, pool_id: uuid.UUID, team_id: uuid.UUID | None = None) -> int:
    query = select(func.coalesce(func.sum(SupportAllocation.amount_won), 0)).where(
        SupportAllocation.pool_id == pool_id
    )
    if team_id is not None:
        query = query.where(SupportAllocation.team_id == team_id)
    return int(await session.scalar(query) or 0)


async def allocated_in_programme(session: AsyncSession, programme_id: uuid.UUID) -> int:
    query = (
        select(func.coalesce(func.sum(SupportAllocation.amount_won), 0))
        .join(SupportPool, SupportPool.id == SupportAllocation.pool_id)
        .where(SupportPool.programme_id == programme_id)
    )
    return int(await session.scalar(query) or 0)


async def package(session: AsyncSession, package_id: uuid.UUID) -> GpuPackage | None:
    return await session.get(GpuPackage, package_id)


async def packages_of(session: AsyncSession, programme_id: uuid.UUID) -> list[GpuPackage]:
    query = select(GpuPackage).where(GpuPackage.programme_id == programme_id).order_by(GpuPackage.gpu_model)
    return list(await session.scalars(query))


async def contracts_of(session: AsyncSession, programme_id: uuid.UUID) -> list[GpuSupplierContract]:
    query = select(GpuSupplierContract).where(GpuSupplierContract.programme_id == programme_id)
    return list(await session.scalars(query.order_by(GpuSupplierContract.rental_starts_at)))


async def contract_team_ids(session: AsyncSession, contract_id: uuid.UUID) -> list[uuid.UUID]:
    query = select(GpuSupplierContractTeam.team_id).where(GpuSupplierContractTeam.contract_id == contract_id)
    return sorted(await session.scalars(query))


async def supplier_contracts_overlapping(
    session: AsyncSession, programme_id: uuid.UUID, organisation_id: uuid.UUID, start: datetime, end: datetime
) -> list[GpuSupplierContract]:
    """Contracts of ``organisation_id`` as a supplier whose rental period meets [start, end)."""
    query = select(GpuSupplierContract).where(
        GpuSupplierContract.programme_id == programme_id,
        GpuSupplierContract.supplier_organisation_id == organisation_id,
        GpuSupplierContract.rental_starts_at < end,
        GpuSupplierContract.rental_ends_at > start,
    )
    return list(await session.scalars(query.order_by(GpuSupplierContract.rental_ends_at.desc())))


async def gpu_allocations_of(session: AsyncSession, team_id: uuid.UUID) -> list[GpuAllocation]:
    query = select(GpuAllocation).where(GpuAllocation.team_id == team_id)
    return list(await session.scalars(query.order_by(GpuAllocation.period_starts_at)))


async def gpu_allocations_of_teams(session: AsyncSession, team_ids: list[uuid.UUID]) -> list[GpuAllocation]:
    if not team_ids:
        return []
    query = select(GpuAllocation).where(GpuAllocation.team_id.in_(team_ids))
    return list(await session.scalars(query.order_by(GpuAllocation.period_starts_at)))


async def data_allocations_of(session: AsyncSession, team_id: uuid.UUID) -> list[SupportAllocation]:
    query = select(SupportAllocation).where(SupportAllocation.team_id == team_id)
    return list(await session.scalars(query.order_by(SupportAllocation.allocated_at)))
