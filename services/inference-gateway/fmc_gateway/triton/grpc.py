"""The gateway's gRPC servicer: Triton status here; run methods from ``runs.grpc`` (shared with REST)."""

from __future__ import annotations

import grpc

from fmc_common.auth import Role
from fmc_common.errors import AppError
from fmc_common.grpc_support import ServicerContext, abort_with, authorize
from fmc_common.runtime import ServiceRuntime
from fmc_gateway.runs.grpc import RunsRpc
from fmc_gateway.triton.client import server_status
from fmc_protos.gateway.v1 import gateway_pb2, gateway_pb2_grpc


class GatewayServicer(RunsRpc, gateway_pb2_grpc.InferenceGatewayServiceServicer):  # type: ignore[misc]
    def __init__(self, runtime: ServiceRuntime, triton_url: str, timeout: float) -> None:
        self._runtime = runtime
        self._triton_url = triton_url
        self._timeout = timeout

    async def GetTritonStatus(
        self, request: gateway_pb2.GetTritonStatusRequest, context: ServicerContext
    ) -> gateway_pb2.TritonStatus:
        await authorize(context, self._runtime.settings.auth, Role.OPERATOR, Role.SERVICE)
        try:
            status = await server_status(self._triton_url, self._timeout)
        except AppError as error:
            await abort_with(context, error)
            raise
        return gateway_pb2.TritonStatus(
            url=status.url,
            live=status.live,
            ready=status.ready,
            server_version=status.server_version,
            extensions=status.extensions,
            models=[
                gateway_pb2.TritonModel(name=m.name, version=m.version, state=m.state) for m in status.models
            ],
        )


def register(runtime: ServiceRuntime, triton_url: str, timeout: float, server: grpc.aio.Server) -> list[str]:
    gateway_pb2_grpc.add_InferenceGatewayServiceServicer_to_server(
        GatewayServicer(runtime, triton_url, timeout), server
    )
    return [gateway_pb2.DESCRIPTOR.services_by_name["InferenceGatewayService"].full_name]
