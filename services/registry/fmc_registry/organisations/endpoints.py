"""REST: /v1/organisations, and an organisation's roles in a programme."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from fmc_common.auth import Role
from fmc_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, after_id, next_cursor
from fmc_common.web.problems import problem_responses
from fmc_registry.deps import ActorCtx, OperatorCtx
from fmc_registry.organisations import repository, service
from fmc_registry.organisations.schemas import (
    OrganisationCreate,
    OrganisationOut,
    OrganisationPage,
    RoleGrant,
    RoleOut,
)

router = APIRouter(tags=["organisations"])


@router.post(
    "/v1/organisations",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganisationOut,
    responses=problem_responses(401, 403, 409, 422),
    summary="Register an organisation",
)
async def create_organisation(body: OrganisationCreate, ctx: OperatorCtx) -> OrganisationOut:
    """A company, university or institute (operators)."""
    organisation = await service.create(ctx, name=body.name, kind=body.kind)
    return OrganisationOut.model_validate(organisation)


@router.get(
    "/v1/organisations",
    response_model=OrganisationPage,
    responses=problem_responses(401, 403, 422),
    summary="List organisations",
)
async def list_organisations(
    ctx: ActorCtx,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> OrganisationPage:
    """Organisations in a stable order, a page at a time (operators and services)."""
    ctx.actor.require(Role.OPERATOR, Role.SERVICE)
    rows = await repository.page(ctx.session, after_id(cursor), limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return OrganisationPage(
        items=[OrganisationOut.model_validate(o) for o in rows],
        next_cursor=next_cursor(rows[-1].id if rows else None, more),
    )


@router.get(
    "/v1/organisations/{organisation_id}",
    response_model=OrganisationOut,
    responses=problem_responses(401, 403, 404),
    summary="One organisation",
)
async def get_organisation(organisation_id: uuid.UUID, ctx: ActorCtx) -> OrganisationOut:
    """Operators and services."""
    ctx.actor.require(Role.OPERATOR, Role.SERVICE)
    return OrganisationOut.model_validate(await service.get(ctx, organisation_id))


@router.post(
    "/v1/programmes/{programme_id}/roles",
    status_code=status.HTTP_201_CREATED,
    response_model=RoleOut,
    responses=problem_responses(401, 403, 404, 422),
    summary="Grant an organisation a role in a programme",
)
async def grant_role(programme_id: uuid.UUID, body: RoleGrant, ctx: OperatorCtx) -> RoleOut:
    """Applicant, consortium lead, consortium member or GPU supplier (operators). Idempotent."""
    granted = await service.grant_role(
        ctx, programme_id=programme_id, organisation_id=body.organisation_id, role=body.role
    )
    return RoleOut.model_validate(granted)


@router.get(
    "/v1/organisations/{organisation_id}/roles",
    response_model=list[RoleOut],
    responses=problem_responses(401, 403, 404),
    summary="An organisation's roles in every programme",
)
async def list_roles(organisation_id: uuid.UUID, ctx: ActorCtx) -> list[RoleOut]:
    """Operators and services."""
    ctx.actor.require(Role.OPERATOR, Role.SERVICE)
    await service.get(ctx, organisation_id)
    return [RoleOut.model_validate(r) for r in await repository.roles_of(ctx.session, organisation_id)]
