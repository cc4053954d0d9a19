"""What every scoring operation needs: the transaction, the outbox, the clock, who acts, settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.auth import Actor, Role
from fmc_common.clock import Clock
from fmc_common.messaging.outbox import Outbox
from fmc_common.runtime import ServiceRuntime
from fmc_common.web.deps import CurrentActor, OperatorOnly, OptionalActor, SessionDep


@dataclass(frozen=True)
class Ctx:
    """One unit of work. Services flush; the edge that built the context commits."""

    session: AsyncSession
    outbox: Outbox
    clock: Clock
    actor: Actor


# The actor recorded in the audit trail when a consumer changes state on another service's event.
def service_actor(service: str) -> Actor:
    return Actor(subject=f"service:{service}", role=Role.SERVICE)


def runtime_of(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


async def _actor_ctx(request: Request, session: SessionDep, actor: CurrentActor) -> Ctx:
    runtime = runtime_of(request)
    return Ctx(session=session, outbox=runtime.outbox, clock=runtime.clock, actor=actor)


async def _operator_ctx(request: Request, session: SessionDep, actor: OperatorOnly) -> Ctx:
    runtime = runtime_of(request)
    return Ctx(session=session, outbox=runtime.outbox, clock=runtime.clock, actor=actor)


async def _public_ctx(request: Request, session: SessionDep, actor: OptionalActor) -> PublicCtx:
    runtime = runtime_of(request)
    return PublicCtx(session=session, clock=runtime.clock, actor=actor)


@dataclass(frozen=True)
class PublicCtx:
    """A read by anyone: the caller may be anonymous (``actor`` None)."""

    session: AsyncSession
    clock: Clock
    actor: Actor | None


# Any authenticated caller (the endpoint checks the role it needs), operators only, or anyone.
ActorCtx = Annotated[Ctx, Depends(_actor_ctx, scope="function")]
OperatorCtx = Annotated[Ctx, Depends(_operator_ctx, scope="function")]
AnyoneCtx = Annotated[PublicCtx, Depends(_public_ctx, scope="function")]
