"""The scoring gRPC servicer, composed here from each domain's adapters (one class per gRPC service)."""

from __future__ import annotations

import grpc

from fmc_common.grpc_support import ServicerContext
from fmc_common.runtime import ServiceRuntime
from fmc_protos.scoring.v1 import scoring_pb2, scoring_pb2_grpc
from fmc_scoring.participants.service import participants
from fmc_scoring.results.grpc import ResultsRpcs


class ScoringServicer(ResultsRpcs, scoring_pb2_grpc.ScoringServiceServicer):  # type: ignore[misc]
    def __init__(self, runtime: ServiceRuntime) -> None:
        self._runtime = runtime

    async def GetParticipant(
        self, request: scoring_pb2.GetParticipantRequest, context: ServicerContext
    ) -> scoring_pb2.Participant:
        found = await participants.for_call(self._runtime, context, request.team_id)
        return scoring_pb2.Participant(
            team_id=str(found.team_id), name=found.name, recorded_at=found.recorded_at.isoformat()
        )


def register(runtime: ServiceRuntime, server: grpc.aio.Server) -> list[str]:
    scoring_pb2_grpc.add_ScoringServiceServicer_to_server(ScoringServicer(runtime), server)
    return [scoring_pb2.DESCRIPTOR.services_by_name["ScoringService"].full_name]
