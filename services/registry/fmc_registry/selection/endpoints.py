"""REST: additional-selection calls, applications to them, and the operator's selection."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from fmc_common.auth import Role
from fmc_common.web.problems import problem_responses
from fmc_registry.deps import ActorCtx, OperatorCtx, RegistryCtx
from fmc_registry.selection import repository, service
from fmc_registry.selection.models import SelectionCall
from fmc_registry.selection.schemas import (
    ApplicationCreate,
    ApplicationOut,
    CallOut,
    EligibleTeam,
    SelectionCreate,
    SelectionOut,
)

router = APIRouter(tags=["selection"])


async def call_out(ctx: RegistryCtx, call: SelectionCall) -> CallOut:
    return CallOut(
        id=call.id,
        programme_id=call.programme_id,
        stage_id=call.stage_id,
        vacancies=call.vacancies,
        status=call.status,
        opened_at=call.opened_at,
        closed_at=call.closed_at,
        eligible=[
            EligibleTeam(team_id=e.team_id, basis=e.basis)
            for e in await repository.eligibility(ctx.session, call.id)
        ],
        applications=[
            ApplicationOut.model_validate(a) for a in await repository.applications(ctx.session, call.id)
        ],
    )


@router.get(
    "/v1/programmes/{programme_id}/selection-calls",
    response_model=list[CallOut],
    responses=problem_responses(401, 403, 404),
    summary="Additional-selection calls of a programme",
)
async def list_calls(programme_id: uuid.UUID, ctx: ActorCtx) -> list[CallOut]:
    """Operators and services."""
    ctx.actor.require(Role.OPERATOR, Role.SERVICE)
    return [await call_out(ctx, c) for c in await service.calls_of(ctx, programme_id)]


@router.get(
    "/v1/selection-calls/{call_id}",
    response_model=CallOut,
    responses=problem_responses(401, 403, 404),
    summary="One additional-selection call",
)
async def get_call(call_id: uuid.UUID, ctx: ActorCtx) -> CallOut:
    """Operators and services: the vacancies, the eligible teams and the applications."""
    ctx.actor.require(Role.OPERATOR, Role.SERVICE)
    return await call_out(ctx, await service.get_call(ctx, call_id))


@router.post(
    "/v1/selection-calls/{call_id}/applications",
    status_code=status.HTTP_201_CREATED,
    response_model=ApplicationOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Apply to an additional selection",
)
async def apply(call_id: uuid.UUID, body: ApplicationCreate, ctx: ActorCtx) -> ApplicationOut:
    """The team itself (or an operator on its behalf). An ineligible team is refused with
    `selection-ineligible`; applying twice returns the first application."""
    ctx.actor.require(Role.OPERATOR, Role.TEAM).require_team(body.team_id)
    return ApplicationOut.model_validate(await service.apply(ctx, call_id, body.team_id))


@router.post(
    "/v1/selection-calls/{call_id}/selection",
    response_model=SelectionOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Select a team in an additional selection",
)
async def select(call_id: uuid.UUID, body: SelectionCreate, ctx: OperatorCtx) -> SelectionOut:
    """Operators. The team becomes selected, joins the next stage (at once if it is open) and gets
    the GPU package and period of the advancing teams (unless it is a GPU supplier under contract:
    then `gpu_refusal` says `gpu-supplier-conflict`). The call closes when its vacancies are filled."""
    chosen = await service.select(ctx, call_id, body.team_id, body.reason)
    return SelectionOut(
        call_id=call_id,
        team_id=chosen.team.id,
        team_status=chosen.team.status,
        gpu_allocation_id=chosen.gpu_allocation.id if chosen.gpu_allocation else None,
        gpu_refusal=chosen.gpu_refusal,
    )
