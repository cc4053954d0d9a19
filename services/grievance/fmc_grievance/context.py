"""What every grievance operation needs: transaction, outbox, clock, settings and the caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.auth import Actor, Role
from fmc_common.clock import Clock
from fmc_common.messaging.outbox import Outbox
from fmc_common.runtime import ServiceRuntime
from fmc_common.web.deps import CurrentActor, SessionDep
from fmc_grievance.settings import GrievanceSettings


@dataclass(frozen=True)
class Ctx:
    """One unit of work. Services flush; the edge that built the context commits."""

    session: AsyncSession
    outbox: Outbox
    clock: Clock
    actor: Actor
    settings: GrievanceSettings


# Recorded as the actor when grievance changes state on its own (scheduler) or on another service's event.
SCHEDULER = Actor(subject="service:grievance-scheduler", role=Role.SERVICE)


def service_actor(service: str) -> Actor:
    return Actor(subject=f"service:{service}", role=Role.SERVICE)


def settings_of(runtime: ServiceRuntime) -> GrievanceSettings:
    settings = runtime.settings
    assert isinstance(settings, GrievanceSettings)
    return settings


def context_for(runtime: ServiceRuntime, session: AsyncSession, actor: Actor) -> Ctx:
    return Ctx(
        session=session,
        outbox=runtime.outbox,
        clock=runtime.clock,
        actor=actor,
        settings=settings_of(runtime),
    )


async def _actor_ctx(request: Request, session: SessionDep, actor: CurrentActor) -> Ctx:
    runtime: ServiceRuntime = request.app.state.runtime
    return context_for(runtime, session, actor)


# Any authenticated caller; each endpoint checks the role it needs (and the team, for a team's data).
ActorCtx = Annotated[Ctx, Depends(_actor_ctx, scope="function")]
