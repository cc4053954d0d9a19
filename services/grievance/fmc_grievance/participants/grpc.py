"""gRPC adapter: GetParticipant over the participant service (the servicer: ``fmc_grievance.grpc``)."""

from __future__ import annotations

from fmc_common.auth import Role
from fmc_grievance.deps import GrievanceCtx
from fmc_grievance.grpc_calls import parse_uuid
from fmc_grievance.participants import service
from fmc_protos.grievance.v1 import grievance_pb2


async def get_participant(
    ctx: GrievanceCtx, request: grievance_pb2.GetParticipantRequest
) -> grievance_pb2.Participant:
    """Operators and services see every team; a team sees itself."""
    team_id = parse_uuid(request.team_id, "team_id")
    if ctx.actor.role == Role.TEAM:
        ctx.actor.require_team(team_id)
    found = await service.get_participant(ctx.session, team_id)
    return grievance_pb2.Participant(
        team_id=str(found.team_id), name=found.name, recorded_at=found.recorded_at.isoformat()
    )
