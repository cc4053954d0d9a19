"""gRPC adapter over the same participant service as REST."""

from __future__ import annotations

import grpc

from fmc_common.grpc_support import ServicerContext
from fmc_common.runtime import ServiceRuntime
from fmc_protos.scoring.v1 import scoring_pb2, scoring_pb2_grpc
from fmc_scoring.participants.service import participants
from fmc_scoring.results.grpc import ResultsRpcs


class ParticipantRpcs:
    """The participant RPC, free of any other domain: the servicer is composed from such parts."""

    _runtime: ServiceRuntime

    async def GetParticipant(
        self, request: scoring_pb2.GetParticipantRequest, context: ServicerContext
    ) -> scoring_pb2.Participant:
        found = await participants.for_call(self._runtime, context, request.team_id)
        return scoring_pb2.Participant(
            team_id=str(found.team_id), name=found.name, recorded_at=found.recorded_at.isoformat()
        )


# Composed here because main.py registers it from here; at the package root it would leave
# participants free of results (a cycle the import-graph test reports).
class ScoringServicer(ResultsRpcs, ParticipantRpcs, scoring_pb2_grpc.ScoringServiceServicer):  # type: ignore[misc]
    def __init__(self, runtime: ServiceRuntime) -> None:
        self._runtime = runtime


def register(runtime: ServiceRuntime, server: grpc.aio.Server) -> list[str]:
    scoring_pb2_grpc.add_ScoringServiceServicer_to_server(ScoringServicer(runtime), server)
    return [scoring_pb2.DESCRIPTOR.services_by_name["ScoringService"].full_name]
