"""grpc.aio plumbing: a server with health and reflection, bearer auth, errors mapped to status codes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from fmc_common.auth import Actor, Role, TokenVerifier, bearer_token
from fmc_common.errors import AppError
from fmc_common.tracing import server_interceptor

# grpcio ships no type information (mypy sees Any); the alias names what is meant.
ServicerContext: TypeAlias = Any

_STATUS_BY_HTTP = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.FAILED_PRECONDITION,
    422: grpc.StatusCode.INVALID_ARGUMENT,
    503: grpc.StatusCode.UNAVAILABLE,
}


def status_for(error: AppError) -> grpc.StatusCode:
    return _STATUS_BY_HTTP.get(error.status, grpc.StatusCode.INTERNAL)


async def abort_with(context: ServicerContext, error: AppError) -> None:
    """Abort the call with the error's status; the stable code travels in trailing metadata."""
    context.set_trailing_metadata((("fmc-problem-code", error.code),))
    await context.abort(status_for(error), error.detail)


async def actor_from_metadata(context: ServicerContext, verifier: TokenVerifier) -> Actor:
    metadata = {key: value for key, value in (context.invocation_metadata() or ())}
    value = metadata.get("authorization")
    return await verifier.verify(bearer_token(value if isinstance(value, str) else None))


async def authorize(context: ServicerContext, verifier: TokenVerifier, *roles: Role) -> Actor:
    """The caller of this RPC, checked for one of ``roles``; aborts the call otherwise."""
    try:
        return (await actor_from_metadata(context, verifier)).require(*roles)
    except AppError as error:
        await abort_with(context, error)
        raise  # abort raises; this keeps type checkers honest


async def start_server(
    *,
    host: str,
    port: int,
    register: Callable[[grpc.aio.Server], Sequence[str]],
) -> tuple[grpc.aio.Server, int]:
    """Start a server with the given services plus health and reflection; returns it and its port."""
    server = grpc.aio.server(interceptors=[server_interceptor()])
    service_names = list(register(server))
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in [*service_names, ""]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        [*service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
        server,
    )
    bound = server.add_insecure_port(f"{host}:{port}")
    await server.start()
    return server, bound
