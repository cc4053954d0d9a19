"""Grievance's request context: the platform's ``Ctx`` with grievance's settings, and its aliases.

Endpoints take ``ActorCtx`` (any authenticated caller; each endpoint or service checks the role it
needs, and the team for a team's own data). Consumers, the closing scheduler and gRPC calls build
the same context with ``context_of``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.auth import Actor
from fmc_common.runtime import ServiceRuntime
from fmc_common.web.context import Ctx, context_dependencies, context_for, service_actor
from fmc_grievance.settings import GrievanceSettings

GrievanceCtx = Ctx[GrievanceSettings]

_ctx = context_dependencies(GrievanceSettings)
ActorCtx = Annotated[GrievanceCtx, Depends(_ctx.actor, scope="function")]

# Recorded as the actor when grievance changes state on its own (the closing scheduler).
SCHEDULER = service_actor("grievance-scheduler")


def context_of(runtime: ServiceRuntime, session: AsyncSession, actor: Actor) -> GrievanceCtx:
    """A context outside a request (a consumer, the scheduler, a gRPC call)."""
    return context_for(runtime, session, actor, GrievanceSettings)
