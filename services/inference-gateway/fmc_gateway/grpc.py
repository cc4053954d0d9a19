"""The gateway's gRPC servicer, composed here from the domains' methods (runs, triton).

One gRPC service per proto; each domain keeps its methods beside its own service functions.
"""

from __future__ import annotations

import grpc

from fmc_common.runtime import ServiceRuntime
from fmc_gateway.runs.grpc import RunsRpc
from fmc_gateway.triton.grpc import TritonRpc
from fmc_protos.gateway.v1 import gateway_pb2, gateway_pb2_grpc


class GatewayServicer(RunsRpc, TritonRpc, gateway_pb2_grpc.InferenceGatewayServiceServicer):  # type: ignore[misc]
    def __init__(self, runtime: ServiceRuntime, triton_url: str, timeout: float) -> None:
        self._runtime = runtime
        self._triton_url = triton_url
        self._timeout = timeout


def register(runtime: ServiceRuntime, triton_url: str, timeout: float, server: grpc.aio.Server) -> list[str]:
    gateway_pb2_grpc.add_InferenceGatewayServiceServicer_to_server(
        GatewayServicer(runtime, triton_url, timeout), server
    )
    return [gateway_pb2.DESCRIPTOR.services_by_name["InferenceGatewayService"].full_name]
