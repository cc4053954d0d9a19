"""Support allocations: money pools and allocations in integer won; GPU packages, supplier contracts
and GPU allocations. Every refusal says what is left; every grant is audited."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime

from fmc_registry.audit import service as audit
from fmc_registry.deps import RegistryCtx
from fmc_registry.lifecycle import TeamStatus
from fmc_registry.organisations import service as organisations
from fmc_registry.organisations.models import ProgrammeRole
from fmc_registry.programmes import service as programmes
from fmc_registry.support import repository
from fmc_registry.support.errors import (
    BudgetExceeded,
    GpuAllocationOverlap,
    GpuSupplierConflict,
    InvalidContract,
    PackageModelTaken,
    PackageNotFound,
    PerTeamCapExceeded,
    PoolExceeded,
    PoolKindTaken,
    PoolNotFound,
    TalentSupportNotApplied,
    TeamNotSupported,
)
from fmc_registry.support.models import (
    GpuAllocation,
    GpuModel,
    GpuPackage,
    GpuSupplierContract,
    GpuSupplierContractTeam,
    PoolKind,
    SupportAllocation,
    SupportPool,
)
from fmc_registry.teams import service as teams
from fmc_registry.teams.models import Team

SUPPORTED = {TeamStatus.SELECTED, TeamStatus.IN_STAGE, TeamStatus.ADVANCED}


async def create_pool(
    ctx: RegistryCtx,
    programme_id: uuid.UUID,
    *,
    kind: PoolKind,
    amount_won: int,
    per_team_cap_won: int | None,
) -> SupportPool:
    programme = await programmes.get_programme(ctx, programme_id)
    if any(p.kind == kind for p in await repository.pools_of(ctx.session, programme_id)):
        raise PoolKindTaken(f"the programme already has a {kind} pool")
    remaining = programme.budget_won - await repository.pooled_total(ctx.session, programme_id)
    if amount_won > remaining:
        raise BudgetExceeded(
            f"the programme has {remaining} won left to set aside",
            remaining_won=remaining,
            requested_won=amount_won,
        )
    pool = SupportPool(
        id=uuid.uuid4(),
        programme_id=programme_id,
        kind=kind,
        amount_won=amount_won,
        per_team_cap_won=per_team_cap_won,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(pool)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="support.pool-created",
        entity_type="programme",
        entity_id=programme_id,
        details={
            "pool_id": str(pool.id),
            "kind": kind,
            "amount_won": amount_won,
            "per_team_cap_won": per_team_cap_won,
        },
    )
    return pool


async def _supported_team(
    ctx: RegistryCtx, team_id: uuid.UUID, programme_id: uuid.UUID, *, lock: bool = False
) -> Team:
    team = await teams.get_team(ctx, team_id, lock=lock)
    if team.programme_id != programme_id or team.status not in SUPPORTED:
        raise TeamNotSupported(
            f"team {team.name!r} is not a selected team of this programme", team_status=team.status
        )
    return team


async def allocate(
    ctx: RegistryCtx, pool_id: uuid.UUID, *, team_id: uuid.UUID, amount_won: int, purpose: str
) -> SupportAllocation:
    pool = await repository.pool(ctx.session, pool_id, lock=True)
    if pool is None:
        raise PoolNotFound(f"no pool with id {pool_id}")
    programme = await programmes.get_programme(ctx, pool.programme_id)
    team = await _supported_team(ctx, team_id, pool.programme_id)
    if pool.kind == PoolKind.TALENT and not team.talent_support_applied:
        raise TalentSupportNotApplied(f"team {team.name!r} did not apply for talent support")
    await _check_amounts(ctx, pool, programme.budget_won, team_id, amount_won)
    allocation = SupportAllocation(
        id=uuid.uuid4(),
        pool_id=pool.id,
        team_id=team.id,
        amount_won=amount_won,
        purpose=purpose,
        allocated_at=ctx.clock.now(),
    )
    ctx.session.add(allocation)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="support.allocated",
        entity_type="team",
        entity_id=team.id,
        reason=purpose,
        details={"pool_id": str(pool.id), "kind": pool.kind, "amount_won": amount_won},
    )
    return allocation


async def _check_amounts(
    ctx: RegistryCtx, pool: SupportPool, budget_won: int, team_id: uuid.UUID, amount_won: int
) -> None:
    left_in_pool = pool.amount_won - await repository.allocated_from(ctx.session, pool.id)
    if amount_won > left_in_pool:
        raise PoolExceeded(
            f"the {pool.kind} pool has {left_in_pool} won left",
            remaining_won=left_in_pool,
            requested_won=amount_won,
        )
    if pool.per_team_cap_won is not None:
        left_for_team = pool.per_team_cap_won - await repository.allocated_from(ctx.session, pool.id, team_id)
        if amount_won > left_for_team:
            raise PerTeamCapExceeded(
                f"the team has {left_for_team} won left in the {pool.kind} pool",
                remaining_won=left_for_team,
                requested_won=amount_won,
            )
    left_in_budget = budget_won - await repository.allocated_in_programme(ctx.session, pool.programme_id)
    if amount_won > left_in_budget:
        raise BudgetExceeded(
            f"the programme has {left_in_budget} won left",
            remaining_won=left_in_budget,
            requested_won=amount_won,
        )


async def add_package(
    ctx: RegistryCtx, programme_id: uuid.UUID, *, gpu_model: GpuModel, gpu_count: int
) -> GpuPackage:
    await programmes.get_programme(ctx, programme_id)
    if any(p.gpu_model == gpu_model for p in await repository.packages_of(ctx.session, programme_id)):
        raise PackageModelTaken(f"the programme already offers a {gpu_model} package")
    package = GpuPackage(id=uuid.uuid4(), programme_id=programme_id, gpu_model=gpu_model, gpu_count=gpu_count)
    ctx.session.add(package)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="support.gpu-package-offered",
        entity_type="programme",
        entity_id=programme_id,
        details={"package_id": str(package.id), "gpu_model": gpu_model, "gpu_count": gpu_count},
    )
    return package


async def add_contract(
    ctx: RegistryCtx,
    programme_id: uuid.UUID,
    *,
    supplier_organisation_id: uuid.UUID,
    gpu_model: GpuModel,
    supplied_team_ids: list[uuid.UUID],
    rental_starts_at: datetime,
    rental_ends_at: datetime,
) -> GpuSupplierContract:
    await programmes.get_programme(ctx, programme_id)
    supplier = await organisations.get(ctx, supplier_organisation_id)
    for team_id in supplied_team_ids:
        team = await teams.get_team(ctx, team_id)
        if team.programme_id != programme_id:
            raise InvalidContract(f"team {team.name!r} is not in this programme")
        if team.lead_organisation_id == supplier.id:
            raise InvalidContract(f"{supplier.name} cannot supply its own team")
    contract = GpuSupplierContract(
        id=uuid.uuid4(),
        programme_id=programme_id,
        supplier_organisation_id=supplier.id,
        gpu_model=gpu_model,
        rental_starts_at=rental_starts_at,
        rental_ends_at=rental_ends_at,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(contract)
    await ctx.session.flush()
    ctx.session.add_all(
        GpuSupplierContractTeam(contract_id=contract.id, team_id=t) for t in supplied_team_ids
    )
    await ctx.session.flush()
    await organisations.grant_role(
        ctx, programme_id=programme_id, organisation_id=supplier.id, role=ProgrammeRole.GPU_SUPPLIER
    )
    await audit.record(
        ctx,
        action="support.gpu-supplier-contract",
        entity_type="organisation",
        entity_id=supplier.id,
        details={
            "contract_id": str(contract.id),
            "gpu_model": gpu_model,
            "supplied_team_ids": [str(t) for t in supplied_team_ids],
            "rental_ends_at": rental_ends_at.isoformat(),
        },
    )
    return contract


async def allocate_gpus(
    ctx: RegistryCtx,
    team_id: uuid.UUID,
    *,
    package_id: uuid.UUID,
    period_starts_at: datetime,
    period_ends_at: datetime,
) -> GpuAllocation:
    package = await repository.package(ctx.session, package_id)
    if package is None:
        raise PackageNotFound(f"no GPU package with id {package_id}")
    # The team's row is held until commit: two allocations for one team cannot both pass the
    # overlap check below.
    team = await _supported_team(ctx, team_id, package.programme_id, lock=True)
    await _check_supplier_conflict(ctx, team, package.programme_id, period_starts_at, period_ends_at)
    for existing in await repository.gpu_allocations_of(ctx.session, team.id):
        if existing.period_starts_at < period_ends_at and existing.period_ends_at > period_starts_at:
            raise GpuAllocationOverlap(
                f"team {team.name!r} already has GPUs from {existing.period_starts_at.isoformat()}",
                allocation_id=str(existing.id),
            )
    allocation = GpuAllocation(
        id=uuid.uuid4(),
        team_id=team.id,
        package_id=package.id,
        period_starts_at=period_starts_at,
        period_ends_at=period_ends_at,
        allocated_at=ctx.clock.now(),
    )
    ctx.session.add(allocation)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="support.gpus-allocated",
        entity_type="team",
        entity_id=team.id,
        details={
            "allocation_id": str(allocation.id),
            "gpu_model": package.gpu_model,
            "gpu_count": package.gpu_count,
            "period": [period_starts_at.isoformat(), period_ends_at.isoformat()],
        },
    )
    return allocation


async def _check_supplier_conflict(
    ctx: RegistryCtx, team: Team, programme_id: uuid.UUID, start: datetime, end: datetime
) -> None:
    if team.lead_organisation_id is None:
        return
    contracts = await repository.supplier_contracts_overlapping(
        ctx.session, programme_id, team.lead_organisation_id, start, end
    )
    if contracts:
        latest = contracts[0]
        raise GpuSupplierConflict(
            f"{team.lead_organisation} rents GPUs to the programme until "
            f"{latest.rental_ends_at.isoformat()}; its team is eligible for GPU support from then on",
            contract_id=str(latest.id),
            eligible_from=latest.rental_ends_at.isoformat(),
        )


async def allocate_like_advancing(
    ctx: RegistryCtx, team: Team, advancing_ids: list[uuid.UUID]
) -> GpuAllocation | None:
    """Give a newly selected team the GPU package and period most advancing teams have (equal terms).

    Returns None when the advancing teams hold no GPU allocation to copy.
    """
    allocations = await repository.gpu_allocations_of_teams(ctx.session, advancing_ids)
    if not allocations:
        return None
    latest_start = max(a.period_starts_at for a in allocations)
    current = [a for a in allocations if a.period_starts_at == latest_start]
    (package_id, end), _ = Counter((a.package_id, a.period_ends_at) for a in current).most_common(1)[0]
    return await allocate_gpus(
        ctx, team.id, package_id=package_id, period_starts_at=latest_start, period_ends_at=end
    )
