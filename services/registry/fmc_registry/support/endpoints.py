"""REST: support pools and allocations (integer won), GPU packages, supplier contracts, GPU allocations."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from fmc_common.auth import Role
from fmc_common.web.problems import problem_responses
from fmc_registry.deps import ActorCtx, OperatorCtx
from fmc_registry.support import service, views
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

router = APIRouter(tags=["support"])
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 422)


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
    return await views.pool_out(ctx, pool)


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
    return await views.contract_out(ctx, contract)


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
    return await views.programme_support(ctx, programme_id)


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
    return await views.team_support(ctx, team_id)
