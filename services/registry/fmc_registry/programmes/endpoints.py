"""REST: /v1/programmes and /v1/stages (operators manage; every authenticated caller may read)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from fmc_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, after_id, next_cursor
from fmc_common.web.problems import problem_responses
from fmc_registry.deps import ActorCtx, OperatorCtx
from fmc_registry.programmes import repository, service
from fmc_registry.programmes.schemas import (
    ProgrammeCreate,
    ProgrammeOut,
    ProgrammePage,
    StageCreate,
    StageOut,
)

# A stage's status changes are in fmc_registry.stages: they move teams and submissions too.
router = APIRouter(tags=["programmes"])


@router.post(
    "/v1/programmes",
    status_code=status.HTTP_201_CREATED,
    response_model=ProgrammeOut,
    responses=problem_responses(401, 403, 409, 422),
    summary="Create a programme",
)
async def create_programme(body: ProgrammeCreate, ctx: OperatorCtx) -> ProgrammeOut:
    """A programme with its total support budget in integer won (operators)."""
    programme = await service.create_programme(ctx, name=body.name, budget_won=body.budget_won)
    return ProgrammeOut.model_validate(programme)


@router.get(
    "/v1/programmes",
    response_model=ProgrammePage,
    responses=problem_responses(401, 422),
    summary="List programmes",
)
async def list_programmes(
    ctx: ActorCtx,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> ProgrammePage:
    """Every authenticated caller."""
    rows = await repository.page(ctx.session, after_id(cursor), limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return ProgrammePage(
        items=[ProgrammeOut.model_validate(p) for p in rows],
        next_cursor=next_cursor(rows[-1].id if rows else None, more),
    )


@router.get(
    "/v1/programmes/{programme_id}",
    response_model=ProgrammeOut,
    responses=problem_responses(401, 404),
    summary="One programme",
)
async def get_programme(programme_id: uuid.UUID, ctx: ActorCtx) -> ProgrammeOut:
    """Every authenticated caller."""
    return ProgrammeOut.model_validate(await service.get_programme(ctx, programme_id))


@router.post(
    "/v1/programmes/{programme_id}/stages",
    status_code=status.HTTP_201_CREATED,
    response_model=StageOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Add a stage",
)
async def add_stage(programme_id: uuid.UUID, body: StageCreate, ctx: OperatorCtx) -> StageOut:
    """A stage in draft: how many teams should advance, its schedule and objection window (operators)."""
    stage = await service.add_stage(ctx, programme_id, **body.model_dump())
    return StageOut.of(stage)


@router.get(
    "/v1/programmes/{programme_id}/stages",
    response_model=list[StageOut],
    responses=problem_responses(401, 404),
    summary="The stages of a programme",
)
async def list_stages(programme_id: uuid.UUID, ctx: ActorCtx) -> list[StageOut]:
    """Every authenticated caller, in stage order."""
    return [StageOut.of(s) for s in await service.stages_of(ctx, programme_id)]


@router.get(
    "/v1/stages/{stage_id}",
    response_model=StageOut,
    responses=problem_responses(401, 404),
    summary="One stage",
)
async def get_stage(stage_id: uuid.UUID, ctx: ActorCtx) -> StageOut:
    """Every authenticated caller."""
    return StageOut.of(await service.get_stage(ctx, stage_id))
