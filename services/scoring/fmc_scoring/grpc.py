"""The scoring gRPC servicer, composed here from each domain's adapters (one class per gRPC service)."""

from __future__ import annotations

import uuid

import grpc

from fmc_common.auth import Role
from fmc_common.db import transaction
from fmc_common.errors import AppError, InvalidInput
from fmc_common.grpc_support import ServicerContext, abort_with, authorize
from fmc_common.runtime import ServiceRuntime
from fmc_protos.scoring.v1 import scoring_pb2, scoring_pb2_grpc
from fmc_scoring.participants import service as participants
from fmc_scoring.results.grpc import ResultsRpcs


class ScoringServicer(ResultsRpcs, scoring_pb2_grpc.ScoringServiceServicer):  # type: ignore[misc]
    def __init__(self, runtime: ServiceRuntime) -> None:
        self._runtime = runtime

    async def GetParticipant(
        self, request: scoring_pb2.GetParticipantRequest, context: ServicerContext
    ) -> scoring_pb2.Participant:
        actor = await authorize(context, self._runtime.settings.auth, Role.OPERATOR, Role.SERVICE, Role.TEAM)
        try:
            try:
                team_id = uuid.UUID(request.team_id)
            except ValueError as exc:
                raise InvalidInput("team_id must be a UUID") from exc
            if actor.role == Role.TEAM:
                actor.require_team(team_id)
            async with transaction(self._runtime.sessions) as session:
                found = await participants.get_participant(session, team_id)
                return scoring_pb2.Participant(
                    team_id=str(found.team_id), name=found.name, recorded_at=found.recorded_at.isoformat()
                )
        except AppError as error:
            await abort_with(context, error)
            raise


def register(runtime: ServiceRuntime, server: grpc.aio.Server) -> list[str]:
    scoring_pb2_grpc.add_ScoringServiceServicer_to_server(ScoringServicer(runtime), server)
    return [scoring_pb2.DESCRIPTOR.services_by_name["ScoringService"].full_name]
