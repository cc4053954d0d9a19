"""REST: support pools and allocations (integer won), GPU packages, supplier contracts, GPU allocations."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from fmc_common.auth import Role
from fmc_common.web.problems import problem_responses
from fmc_registry.context import ActorCtx, Ctx, OperatorCtx
from fmc_registry.programmes import service as programmes
from fmc_registry.support import repository, service
from fmc_registry.support.models import GpuSupplierContract, SupportPool
from fmc_registry.support.schemas import (
    AllocationCreate,
    AllocationOut,
    ContractCreate,
    ContractOut,
    GpuAllocationCreate,
    GpuAllocationOut,
    PackageCreate,
    PackageOut,
    PoolCreate,
    PoolOut,
    ProgrammeSupport,
    TeamSupport,
)
from fmc_registry.teams import service as teams

router = APIRouter(tags=["support"])
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 422)


async def pool_out(ctx: Ctx, pool: SupportPool) -> PoolOut:
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


async def contract_out(ctx: Ctx, contract: GpuSupplierContract) -> ContractOut:
    return ContractOut(
        id=contract.id,
        programme_id=contract.programme_id,
        supplier_organisation_id=contract.supplier_organisation_id,
        gpu_model=contract.gpu_model,
        supplied_team_ids=await repository.contract_team_ids(ctx.session, contract.id),
        rental_starts_at=contract.rental_starts_at,
        rental_ends_at=contract.rental_ends_at,
    )


@router.post(
    "/v1/programmes/{programme_id}/pools",
    status_code=status.HTTP_201_CREATED,
    response_model=PoolOut,
    responses=WRITE_ERRORS,
    summary="Set aside a support pool",
)
async def create_pool(programme_id: uuid.UUID, body: PoolCreate, ctx: OperatorCtx) -> PoolOut:
    """Operators. Refused with `budget-exceeded` (and `remaining_won`) beyond the programme's budget."""
    pool = await service.create_pool(
        ctx, programme_id, kind=body.kind, amount_won=body.amount_won, per_team_cap_won=body.per_team_cap_won
    )
    return await pool_out(ctx, pool)


@router.post(
    "/v1/pools/{pool_id}/allocations",
    status_code=status.HTTP_201_CREATED,
    response_model=AllocationOut,
    responses=WRITE_ERRORS,
    summary="Allocate support from a pool to a team",
)
async def allocate(pool_id: uuid.UUID, body: AllocationCreate, ctx: OperatorCtx) -> AllocationOut:
    """Operators. Refused with `pool-exceeded`, `per-team-cap-exceeded` or `budget-exceeded`, each
    with `remaining_won`; talent support only for teams that applied (`talent-support-not-applied`)."""
    allocation = await service.allocate(
        ctx, pool_id, team_id=body.team_id, amount_won=body.amount_won, purpose=body.purpose
    )
    return AllocationOut.model_validate(allocation)


@router.post(
    "/v1/programmes/{programme_id}/gpu-packages",
    status_code=status.HTTP_201_CREATED,
    response_model=PackageOut,
    responses=WRITE_ERRORS,
    summary="Offer a GPU package",
)
async def add_package(programme_id: uuid.UUID, body: PackageCreate, ctx: OperatorCtx) -> PackageOut:
    """Operators: what one team receives, e.g. 512 B200 or 1,024 H100."""
    package = await service.add_package(ctx, programme_id, gpu_model=body.gpu_model, gpu_count=body.gpu_count)
    return PackageOut.model_validate(package)


@router.post(
    "/v1/programmes/{programme_id}/gpu-supplier-contracts",
    status_code=status.HTTP_201_CREATED,
    response_model=ContractOut,
    responses=WRITE_ERRORS,
    summary="Record a GPU supplier contract",
)
async def add_contract(programme_id: uuid.UUID, body: ContractCreate, ctx: OperatorCtx) -> ContractOut:
    """Operators. While the rental runs, the supplier's own team receives no GPU support."""
    contract = await service.add_contract(ctx, programme_id, **body.model_dump())
    return await contract_out(ctx, contract)


@router.post(
    "/v1/teams/{team_id}/gpu-allocations",
    status_code=status.HTTP_201_CREATED,
    response_model=GpuAllocationOut,
    responses=WRITE_ERRORS,
    summary="Allocate a GPU package to a team for a period",
)
async def allocate_gpus(team_id: uuid.UUID, body: GpuAllocationCreate, ctx: OperatorCtx) -> GpuAllocationOut:
    """Operators. Refused with `gpu-supplier-conflict` (and `eligible_from`) when the team's lead
    rents GPUs to the programme during the period."""
    allocation = await service.allocate_gpus(
        ctx,
        team_id,
        package_id=body.package_id,
        period_starts_at=body.period_starts_at,
        period_ends_at=body.period_ends_at,
    )
    return GpuAllocationOut.model_validate(allocation)


@router.get(
    "/v1/programmes/{programme_id}/support",
    response_model=ProgrammeSupport,
    responses=problem_responses(401, 403, 404),
    summary="A programme's support: budget, pools, GPU packages and supplier contracts",
)
async def programme_support(programme_id: uuid.UUID, ctx: ActorCtx) -> ProgrammeSupport:
    """Operators and services."""
    ctx.actor.require(Role.OPERATOR, Role.SERVICE)
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


@router.get(
    "/v1/teams/{team_id}/support",
    response_model=TeamSupport,
    responses=problem_responses(401, 403, 404),
    summary="What a team receives",
)
async def team_support(team_id: uuid.UUID, ctx: ActorCtx) -> TeamSupport:
    """Operators and services; a team reads its own."""
    ctx.actor.require(Role.OPERATOR, Role.SERVICE, Role.TEAM)
    if ctx.actor.role == Role.TEAM:
        ctx.actor.require_team(team_id)
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
