"""REST: /v1/teams (operators, services, the team itself) and /v1/public/teams (anyone)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, status

from fmc_common.auth import Role
from fmc_common.idempotency import StoredResponses, once
from fmc_common.pagination import DEFAULT_LIMIT, MAX_LIMIT
from fmc_common.web.problems import problem_responses
from fmc_registry.base import PLATFORM
from fmc_registry.deps import ActorCtx, AnyoneCtx, OperatorCtx
from fmc_registry.lifecycle import TeamStatus, public_status
from fmc_registry.teams import repository, service
from fmc_registry.teams.models import Team
from fmc_registry.teams.schemas import (
    MemberOut,
    PublicTeamOut,
    PublicTeamPage,
    StatusChange,
    TeamCreate,
    TeamDetail,
    TeamOut,
    TeamPage,
)

router = APIRouter(tags=["teams"])

# The public sees who takes part: applicants that were never selected are not listed.
PUBLIC_STATUSES: list[TeamStatus] = [s for s in TeamStatus if s != TeamStatus.APPLICANT]


@router.post(
    "/v1/teams",
    status_code=status.HTTP_201_CREATED,
    response_model=TeamOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Register a team",
)
async def register_team(
    body: TeamCreate,
    ctx: OperatorCtx,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> TeamOut:
    """Register a team (a consortium led by an organisation), optionally in a programme. Operators only.

    Emits `TeamRegistered`. Send an `Idempotency-Key` header to make retries safe: the same key
    with the same body returns the first response; with another body it is refused (409).
    """

    async def run() -> TeamOut:
        team = await service.register_team(
            ctx,
            service.Application(
                name=body.name,
                lead_organisation=body.lead_organisation,
                programme_id=body.programme_id,
                members=body.members,
                applicant_rank=body.applicant_rank,
                preliminary_review=body.preliminary_review,
                talent_support_applied=body.talent_support_applied,
            ),
        )
        return TeamOut.model_validate(team)

    # Scope and payload as before members and programmes existed: old keys still match.
    payload = body.model_dump(exclude_defaults=True, mode="json")
    responses = StoredResponses(
        ctx.session, PLATFORM, ctx.clock, operation="register-team", caller=ctx.actor, model=TeamOut
    )
    return await once(responses, idempotency_key, payload, run)


@router.get(
    "/v1/teams/{team_id}",
    response_model=TeamDetail,
    responses=problem_responses(401, 403, 404),
    summary="One team",
)
async def get_team(team_id: uuid.UUID, ctx: ActorCtx) -> TeamDetail:
    """Operators and services see every team; a team sees itself (with its consortium members)."""
    if ctx.actor.role != Role.SERVICE:
        ctx.actor.require_team(team_id)
    team = await service.get_team(ctx, team_id)
    members = [
        MemberOut(organisation_id=o.id, name=o.name, role=m.role)
        for m, o in await repository.members(ctx.session, team_id)
    ]
    return TeamDetail.model_validate(TeamOut.model_validate(team).model_dump() | {"members": members})


@router.get(
    "/v1/teams", response_model=TeamPage, responses=problem_responses(401, 403, 422), summary="List teams"
)
async def list_teams(
    ctx: ActorCtx,
    programme_id: uuid.UUID | None = None,
    team_status: Annotated[TeamStatus | None, Query(alias="status")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> TeamPage:
    """Teams in a stable order, a page at a time, optionally of one programme or status.

    Operators and services.
    """
    ctx.actor.require(Role.OPERATOR, Role.SERVICE)
    statuses = [team_status] if team_status else None
    found = await service.page(ctx.session, cursor, limit, programme_id=programme_id, statuses=statuses)
    return TeamPage(items=[TeamOut.model_validate(t) for t in found.teams], next_cursor=found.next_cursor)


@router.post(
    "/v1/teams/{team_id}/status",
    response_model=TeamOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Change a team's status",
)
async def change_team_status(team_id: uuid.UUID, body: StatusChange, ctx: OperatorCtx) -> TeamOut:
    """Move a team in its lifecycle (operators), with the reason; audited and announced.

    applicant → selected → in-stage → advanced / eliminated (with a reason code) → withdrawn.
    An illegal step is refused with `illegal-status-transition` and the allowed next statuses.
    """
    team = await service.get_team(ctx, team_id)
    changed = await service.change_status(
        ctx, team, body.to, stage_number=body.stage_number, reason_code=body.reason_code, reason=body.reason
    )
    return TeamOut.model_validate(changed)


@router.get(
    "/v1/public/teams",
    response_model=PublicTeamPage,
    responses=problem_responses(401, 422),
    summary="Public list of teams",
)
async def list_public_teams(
    ctx: AnyoneCtx,
    programme_id: uuid.UUID | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> PublicTeamPage:
    """Anyone, without a token: the teams taking part, with their public status. No ranks, no scores."""
    found = await service.page(
        ctx.session, cursor, limit, programme_id=programme_id, statuses=PUBLIC_STATUSES
    )
    return PublicTeamPage(items=[_public(t) for t in found.teams], next_cursor=found.next_cursor)


def _public(team: Team) -> PublicTeamOut:
    return PublicTeamOut(
        id=team.id,
        name=team.name,
        lead_organisation=team.lead_organisation,
        public_status=public_status(team.status, team.stage_number, team.elimination_reason),
    )
