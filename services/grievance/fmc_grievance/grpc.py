"""The gRPC servicer of grievance, composed here from each domain's adapter (same service functions as REST).

Each call is one authorised unit of work (``run_call``): the roles listed may call it, the domain
adapter checks the rest (a team reads only its own).
"""

from __future__ import annotations

import grpc

from fmc_common.auth import Role
from fmc_common.grpc_calls import run_call
from fmc_common.grpc_support import ServicerContext
from fmc_common.runtime import ServiceRuntime
from fmc_grievance.deps import context_of
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
            make_context=context_of,
        )

    async def GetObjection(
        self, request: grievance_pb2.GetObjectionRequest, context: ServicerContext
    ) -> grievance_pb2.Objection:
        return await run_call(
            self._runtime,
            context,
            (Role.OPERATOR, Role.TEAM),
            lambda ctx: objections_grpc.get_objection(ctx, request),
            make_context=context_of,
        )


def register(runtime: ServiceRuntime, server: grpc.aio.Server) -> list[str]:
    grievance_pb2_grpc.add_GrievanceServiceServicer_to_server(GrievanceServicer(runtime), server)
    return [grievance_pb2.DESCRIPTOR.services_by_name["GrievanceService"].full_name]
