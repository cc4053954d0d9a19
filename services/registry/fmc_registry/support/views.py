"""What operators, services and teams read about support: totals computed from the allocations."""

from __future__ import annotations

import uuid

from fmc_registry.deps import RegistryCtx
from fmc_registry.programmes import service as programmes
from fmc_registry.support import repository
from fmc_registry.support.models import GpuSupplierContract, SupportPool
from fmc_registry.support.schemas import (
    AllocationOut,
    ContractOut,
    GpuAllocationOut,
    PackageOut,
    PoolOut,
    ProgrammeSupport,
    TeamSupport,
)
from fmc_registry.teams import service as teams


async def pool_out(ctx: RegistryCtx, pool: SupportPool) -> PoolOut:
    allocated = await repository.allocated_from(ctx.session, pool.id)
    return PoolOut(
        id=pool.id,
        programme_id=pool.programme_id,
        kind=pool.kind,
        amount_won=pool.amount_won,
        per_team_cap_won=pool.per_team_cap_won,
        allocated_won=allocated,
        remaining_won=pool.amount_won - allocated,
    )


async def contract_out(ctx: RegistryCtx, contract: GpuSupplierContract) -> ContractOut:
    return ContractOut(
        id=contract.id,
        programme_id=contract.programme_id,
        supplier_organisation_id=contract.supplier_organisation_id,
        gpu_model=contract.gpu_model,
        supplied_team_ids=await repository.contract_team_ids(ctx.session, contract.id),
        rental_starts_at=contract.rental_starts_at,
        rental_ends_at=contract.rental_ends_at,
    )


async def programme_support(ctx: RegistryCtx, programme_id: uuid.UUID) -> ProgrammeSupport:
    programme = await programmes.get_programme(ctx, programme_id)
    pooled = await repository.pooled_total(ctx.session, programme_id)
    return ProgrammeSupport(
        programme_id=programme.id,
        budget_won=programme.budget_won,
        pooled_won=pooled,
        allocated_won=await repository.allocated_in_programme(ctx.session, programme_id),
        unpooled_won=programme.budget_won - pooled,
        pools=[await pool_out(ctx, p) for p in await repository.pools_of(ctx.session, programme_id)],
        gpu_packages=[
            PackageOut.model_validate(p) for p in await repository.packages_of(ctx.session, programme_id)
        ],
        gpu_supplier_contracts=[
            await contract_out(ctx, c) for c in await repository.contracts_of(ctx.session, programme_id)
        ],
    )


async def team_support(ctx: RegistryCtx, team_id: uuid.UUID) -> TeamSupport:
    await teams.get_team(ctx, team_id)
    return TeamSupport(
        team_id=team_id,
        data_allocations=[
            AllocationOut.model_validate(a)
            for a in await repository.data_allocations_of(ctx.session, team_id)
        ],
        gpu_allocations=[
            GpuAllocationOut.model_validate(a)
            for a in await repository.gpu_allocations_of(ctx.session, team_id)
        ],
    )
