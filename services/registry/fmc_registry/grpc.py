"""The registry's gRPC servicer, composed from each domain's handlers (teams, submissions).

It lives at the package root because it spans domains: each handler stays beside its own service,
and no domain package imports another's adapter.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc

from fmc_common.auth import Role
from fmc_common.grpc_calls import run_call
from fmc_common.grpc_support import ServicerContext
from fmc_common.runtime import ServiceRuntime
from fmc_protos.registry.v1 import registry_pb2, registry_pb2_grpc
from fmc_registry.deps import RegistryCtx, context_of
from fmc_registry.submissions import grpc as submissions
from fmc_registry.teams import grpc as teams

READERS = (Role.OPERATOR, Role.SERVICE, Role.TEAM)
T = TypeVar("T")


class RegistryServicer(registry_pb2_grpc.RegistryServiceServicer):  # type: ignore[misc]
    def __init__(self, runtime: ServiceRuntime) -> None:
        self._runtime = runtime

    async def _call(
        self, context: ServicerContext, roles: tuple[Role, ...], work: Callable[[RegistryCtx], Awaitable[T]]
    ) -> T:
        return await run_call(self._runtime, context, roles, work, make_context=context_of)

    async def RegisterTeam(
        self, request: registry_pb2.RegisterTeamRequest, context: ServicerContext
    ) -> registry_pb2.Team:
        return await self._call(context, (Role.OPERATOR,), lambda ctx: teams.register_team(ctx, request))

    async def GetTeam(
        self, request: registry_pb2.GetTeamRequest, context: ServicerContext
    ) -> registry_pb2.Team:
        return await self._call(context, READERS, lambda ctx: teams.get_team(ctx, request))

    async def ListTeams(
        self, request: registry_pb2.ListTeamsRequest, context: ServicerContext
    ) -> registry_pb2.ListTeamsResponse:
        return await self._call(
            context, (Role.OPERATOR, Role.SERVICE), lambda ctx: teams.list_teams(ctx, request)
        )

    async def GetSubmission(
        self, request: registry_pb2.GetSubmissionRequest, context: ServicerContext
    ) -> registry_pb2.Submission:
        return await self._call(context, READERS, lambda ctx: submissions.get_submission(ctx, request))

    async def RegisterSubmission(
        self, request: registry_pb2.RegisterSubmissionRequest, context: ServicerContext
    ) -> registry_pb2.Submission:
        return await self._call(
            context,
            (Role.OPERATOR, Role.TEAM),
            lambda ctx: submissions.register_submission(ctx, request),
        )


def register(runtime: ServiceRuntime, server: grpc.aio.Server) -> list[str]:
    registry_pb2_grpc.add_RegistryServiceServicer_to_server(RegistryServicer(runtime), server)
    return [registry_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name]
