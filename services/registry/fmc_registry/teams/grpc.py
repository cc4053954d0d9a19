"""gRPC adapter over the same service functions as REST (teams here; submissions delegated)."""

from __future__ import annotations

import grpc
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.auth import Actor, Role
from fmc_common.errors import InvalidInput
from fmc_common.grpc_calls import parse_uuid, run_call
from fmc_common.grpc_support import ServicerContext
from fmc_common.idempotency import StoredResponses, once
from fmc_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, after_id, next_cursor
from fmc_common.runtime import ServiceRuntime
from fmc_protos.registry.v1 import registry_pb2, registry_pb2_grpc
from fmc_registry.base import PLATFORM
from fmc_registry.context import Ctx
from fmc_registry.lifecycle import TeamStatus
from fmc_registry.submissions import grpc as submissions_grpc
from fmc_registry.teams import repository, service
from fmc_registry.teams.models import Team
from fmc_registry.teams.schemas import TeamOut

READERS = (Role.OPERATOR, Role.SERVICE, Role.TEAM)


def _unit(runtime: ServiceRuntime, session: AsyncSession, actor: Actor) -> Ctx:
    return Ctx(session=session, outbox=runtime.outbox, clock=runtime.clock, actor=actor)


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


class RegistryServicer(registry_pb2_grpc.RegistryServiceServicer):  # type: ignore[misc]
    def __init__(self, runtime: ServiceRuntime) -> None:
        self._runtime = runtime

    async def RegisterTeam(
        self, request: registry_pb2.RegisterTeamRequest, context: ServicerContext
    ) -> registry_pb2.Team:
        async def work(ctx: Ctx) -> registry_pb2.Team:
            name, lead = request.name.strip(), request.lead_organisation.strip()
            if not name or not lead or len(name) > 200 or len(lead) > 200:
                raise InvalidInput("name and lead_organisation are required (at most 200 characters)")
            if not (name + lead).isprintable():
                raise InvalidInput("name and lead_organisation must not contain control characters")

            async def run() -> TeamOut:
                application = service.Application(name=name, lead_organisation=lead)
                return TeamOut.model_validate(await service.register_team(ctx, application))

            responses = StoredResponses(
                ctx.session, PLATFORM, ctx.clock, operation="register-team", caller=ctx.actor, model=TeamOut
            )
            team = await once(
                responses, request.idempotency_key or None, {"name": name, "lead_organisation": lead}, run
            )
            return _to_message(team)

        return await run_call(self._runtime, context, (Role.OPERATOR,), work, make_context=_unit)

    async def GetTeam(
        self, request: registry_pb2.GetTeamRequest, context: ServicerContext
    ) -> registry_pb2.Team:
        async def work(ctx: Ctx) -> registry_pb2.Team:
            team_id = parse_uuid(request.team_id, "team_id")
            if ctx.actor.role == Role.TEAM:
                ctx.actor.require_team(team_id)
            return _to_message(await service.get_team(ctx, team_id))

        return await run_call(self._runtime, context, READERS, work, make_context=_unit)

    async def ListTeams(
        self, request: registry_pb2.ListTeamsRequest, context: ServicerContext
    ) -> registry_pb2.ListTeamsResponse:
        async def work(ctx: Ctx) -> registry_pb2.ListTeamsResponse:
            size = request.page_size or DEFAULT_LIMIT
            if not 1 <= size <= MAX_LIMIT:
                raise InvalidInput(f"page_size must be 1 to {MAX_LIMIT}")
            programme_id = parse_uuid(request.programme_id, "programme_id") if request.programme_id else None
            if request.status and request.status not in {s.value for s in TeamStatus}:
                raise InvalidInput("status is not a team status", allowed=[s.value for s in TeamStatus])
            teams = await repository.page(
                ctx.session,
                after_id(request.page_token or None),
                size + 1,
                programme_id=programme_id,
                statuses=[request.status] if request.status else None,
            )
            page = teams[:size]
            token = next_cursor(page[-1].id if page else None, len(teams) > size)
            return registry_pb2.ListTeamsResponse(
                teams=[_to_message(t) for t in page], next_page_token=token or ""
            )

        return await run_call(self._runtime, context, (Role.OPERATOR, Role.SERVICE), work, make_context=_unit)

    async def GetSubmission(
        self, request: registry_pb2.GetSubmissionRequest, context: ServicerContext
    ) -> registry_pb2.Submission:
        return await run_call(
            self._runtime,
            context,
            READERS,
            lambda ctx: submissions_grpc.get_submission(ctx, request),
            make_context=_unit,
        )

    async def RegisterSubmission(
        self, request: registry_pb2.RegisterSubmissionRequest, context: ServicerContext
    ) -> registry_pb2.Submission:
        return await run_call(
            self._runtime,
            context,
            (Role.OPERATOR, Role.TEAM),
            lambda ctx: submissions_grpc.register_submission(ctx, request),
            make_context=_unit,
        )


def register(runtime: ServiceRuntime, server: grpc.aio.Server) -> list[str]:
    registry_pb2_grpc.add_RegistryServiceServicer_to_server(RegistryServicer(runtime), server)
    return [registry_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name]
