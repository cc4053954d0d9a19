"""gRPC handlers for teams, called by the servicer (fmc_registry.grpc) inside an authorised unit of work."""

from __future__ import annotations

from fmc_common.auth import Role
from fmc_common.errors import InvalidInput
from fmc_common.grpc_calls import parse_uuid
from fmc_common.idempotency import StoredResponses, once
from fmc_common.pagination import DEFAULT_LIMIT, MAX_LIMIT
from fmc_protos.registry.v1 import registry_pb2
from fmc_registry.base import PLATFORM
from fmc_registry.deps import RegistryCtx
from fmc_registry.lifecycle import TeamStatus
from fmc_registry.teams import service
from fmc_registry.teams.models import Team
from fmc_registry.teams.schemas import TeamOut


def _to_message(team: Team | TeamOut) -> registry_pb2.Team:
    return registry_pb2.Team(
        team_id=str(team.id),
        name=team.name,
        lead_organisation=team.lead_organisation,
        status=team.status,
        registered_at=team.registered_at.isoformat(),
        programme_id=str(team.programme_id) if team.programme_id else "",
        stage_number=team.stage_number or 0,
        elimination_reason=team.elimination_reason or "",
        lead_organisation_id=str(team.lead_organisation_id) if team.lead_organisation_id else "",
    )


async def register_team(ctx: RegistryCtx, request: registry_pb2.RegisterTeamRequest) -> registry_pb2.Team:
    name, lead = request.name.strip(), request.lead_organisation.strip()
    if not name or not lead or len(name) > 200 or len(lead) > 200:
        raise InvalidInput("name and lead_organisation are required (at most 200 characters)")
    if not (name + lead).isprintable():
        raise InvalidInput("name and lead_organisation must not contain control characters")

    async def run() -> TeamOut:
        application = service.Application(name=name, lead_organisation=lead)
        return TeamOut.model_validate(await service.register_team(ctx, application))

    team = await once(
        StoredResponses(
            ctx.session,
            PLATFORM,
            ctx.clock,
            operation="register-team",
            caller=ctx.actor,
            model=TeamOut,
            status_code=201,
        ),
        request.idempotency_key or None,
        {"name": name, "lead_organisation": lead},
        run,
    )
    return _to_message(team)


async def get_team(ctx: RegistryCtx, request: registry_pb2.GetTeamRequest) -> registry_pb2.Team:
    team_id = parse_uuid(request.team_id, "team_id")
    if ctx.actor.role == Role.TEAM:
        ctx.actor.require_team(team_id)
    return _to_message(await service.get_team(ctx, team_id))


async def list_teams(
    ctx: RegistryCtx, request: registry_pb2.ListTeamsRequest
) -> registry_pb2.ListTeamsResponse:
    size = request.page_size or DEFAULT_LIMIT
    if not 1 <= size <= MAX_LIMIT:
        raise InvalidInput(f"page_size must be 1 to {MAX_LIMIT}")
    programme_id = parse_uuid(request.programme_id, "programme_id") if request.programme_id else None
    if request.status and request.status not in {s.value for s in TeamStatus}:
        raise InvalidInput("status is not a team status", allowed=[s.value for s in TeamStatus])
    found = await service.page(
        ctx.session,
        request.page_token or None,
        size,
        programme_id=programme_id,
        statuses=[TeamStatus(request.status)] if request.status else None,
    )
    return registry_pb2.ListTeamsResponse(
        teams=[_to_message(t) for t in found.teams], next_page_token=found.next_cursor or ""
    )
