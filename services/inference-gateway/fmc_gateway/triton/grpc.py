"""gRPC method over the same Triton status as REST: GetTritonStatus."""

from __future__ import annotations

from fmc_common.auth import Role
from fmc_common.errors import AppError
from fmc_common.grpc_support import ServicerContext, abort_with, authorize
from fmc_common.runtime import ServiceRuntime
from fmc_gateway.triton.client import server_status
from fmc_protos.gateway.v1 import gateway_pb2


class TritonRpc:
    """Mixed into the gateway's servicer (``fmc_gateway.grpc``: one gRPC service per proto)."""

    _runtime: ServiceRuntime
    _triton_url: str
    _timeout: float

    async def GetTritonStatus(
        self, request: gateway_pb2.GetTritonStatusRequest, context: ServicerContext
    ) -> gateway_pb2.TritonStatus:
        await authorize(context, self._runtime.verifier, Role.OPERATOR, Role.SERVICE)
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
