"""gRPC servicer of grievance: participants here, objections delegated (same service functions as REST)."""

from __future__ import annotations

import grpc

from fmc_common.auth import Role
from fmc_common.grpc_calls import run_call
from fmc_common.grpc_support import ServicerContext
from fmc_common.runtime import ServiceRuntime
from fmc_grievance.context import context_for
from fmc_grievance.objections import grpc as objections_grpc
from fmc_grievance.participants.service import participants
from fmc_protos.grievance.v1 import grievance_pb2, grievance_pb2_grpc


class GrievanceServicer(grievance_pb2_grpc.GrievanceServiceServicer):  # type: ignore[misc]
    def __init__(self, runtime: ServiceRuntime) -> None:
        self._runtime = runtime

    async def GetParticipant(
        self, request: grievance_pb2.GetParticipantRequest, context: ServicerContext
    ) -> grievance_pb2.Participant:
        found = await participants.for_call(self._runtime, context, request.team_id)
        return grievance_pb2.Participant(
            team_id=str(found.team_id), name=found.name, recorded_at=found.recorded_at.isoformat()
        )

    async def FileObjection(
        self, request: grievance_pb2.FileObjectionRequest, context: ServicerContext
    ) -> grievance_pb2.Objection:
        return await run_call(
            self._runtime,
            context,
            (Role.TEAM,),
            lambda ctx: objections_grpc.file_objection(ctx, request),
            make_context=context_for,
        )

    async def GetObjection(
        self, request: grievance_pb2.GetObjectionRequest, context: ServicerContext
    ) -> grievance_pb2.Objection:
        return await run_call(
            self._runtime,
            context,
            (Role.OPERATOR, Role.TEAM),
            lambda ctx: objections_grpc.get_objection(ctx, request),
            make_context=context_for,
        )


def register(runtime: ServiceRuntime, server: grpc.aio.Server) -> list[str]:
    grievance_pb2_grpc.add_GrievanceServiceServicer_to_server(GrievanceServicer(runtime), server)
    return [grievance_pb2.DESCRIPTOR.services_by_name["GrievanceService"].full_name]
