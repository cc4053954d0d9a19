"""gRPC adapter over the same team service functions as REST."""

from __future__ import annotations

import uuid

import grpc

from fmc_common.auth import Role
from fmc_common.db import transaction
from fmc_common.errors import AppError, InvalidInput
from fmc_common.grpc_support import ServicerContext, abort_with, authorize
from fmc_common.runtime import ServiceRuntime
from fmc_protos.registry.v1 import registry_pb2, registry_pb2_grpc
from fmc_registry.teams import service
from fmc_registry.teams.models import Team


def _to_message(team: Team) -> registry_pb2.Team:
    return registry_pb2.Team(
        team_id=str(team.id),
        name=team.name,
        lead_organisation=team.lead_organisation,
        status=team.status,
        registered_at=team.registered_at.isoformat(),
    )


class RegistryServicer(registry_pb2_grpc.RegistryServiceServicer):  # type: ignore[misc]
    def __init__(self, runtime: ServiceRuntime) -> None:
        self._runtime = runtime

    async def RegisterTeam(
        self, request: registry_pb2.RegisterTeamRequest, context: ServicerContext
    ) -> registry_pb2.Team:
        await authorize(context, self._runtime.settings.auth, Role.OPERATOR)
        try:
            if not request.name.strip() or not request.lead_organisation.strip():
                raise InvalidInput("name and lead_organisation are required")
            async with transaction(self._runtime.sessions) as session:
                team = await service.register_team(
                    session,
                    self._runtime.outbox,
                    self._runtime.clock,
                    name=request.name.strip(),
                    lead_organisation=request.lead_organisation.strip(),
                )
                message = _to_message(team)
            self._runtime.after_commit()
            return message
        except AppError as error:
            await abort_with(context, error)
            raise

    async def GetTeam(
        self, request: registry_pb2.GetTeamRequest, context: ServicerContext
    ) -> registry_pb2.Team:
        actor = await authorize(context, self._runtime.settings.auth, Role.OPERATOR, Role.SERVICE, Role.TEAM)
        try:
            team_id = _parse_uuid(request.team_id)
            if actor.role == Role.TEAM:
                actor.require_team(team_id)
            async with transaction(self._runtime.sessions) as session:
                return _to_message(await service.get_team(session, team_id))
        except AppError as error:
            await abort_with(context, error)
            raise


def _parse_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidInput("team_id must be a UUID") from exc


def register(runtime: ServiceRuntime, server: grpc.aio.Server) -> list[str]:
    registry_pb2_grpc.add_RegistryServiceServicer_to_server(RegistryServicer(runtime), server)
    return [registry_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name]
