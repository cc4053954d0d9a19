"""The unit of work an endpoint hands to its service: transaction, outbox, clock, caller, settings.

Every service uses the same ``Ctx``, parametrised by its own settings class. A service declares its
aliases once (in its ``deps.py``)::

    from fmc_common.web.context import Ctx, PublicCtx, context_dependencies

    ScoringCtx = Ctx[ScoringSettings]
    _ctx = context_dependencies(ScoringSettings)
    ActorCtx = Annotated[ScoringCtx, Depends(_ctx.actor, scope="function")]
    OperatorCtx = Annotated[ScoringCtx, Depends(_ctx.operator, scope="function")]
    AnyoneCtx = Annotated[PublicCtx[ScoringSettings], Depends(_ctx.anyone, scope="function")]

Services flush; the edge that built the context commits (``SessionDep``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.auth import Actor, Role
from fmc_common.clock import Clock
from fmc_common.messaging.outbox import Outbox
from fmc_common.runtime import ServiceRuntime
from fmc_common.web.deps import (
    CurrentActor,
    OperatorOnly,
    OptionalActor,
    RuntimeDep,
    SessionDep,
    settings_of,
)

S = TypeVar("S")


@dataclass(frozen=True)
class Ctx(Generic[S]):
    """One unit of work by a known caller."""

    session: AsyncSession
    outbox: Outbox
    clock: Clock
    actor: Actor
    settings: S


@dataclass(frozen=True)
class PublicCtx(Generic[S]):
    """A read by anyone: the caller may be anonymous (``actor`` None)."""

    session: AsyncSession
    clock: Clock
    actor: Actor | None
    settings: S


def service_actor(service: str) -> Actor:
    """The actor recorded in the audit trail when a service changes state on its own or on an event."""
    return Actor(subject=f"service:{service}", role=Role.SERVICE)


def _settings(runtime: ServiceRuntime, kind: type[S]) -> S:
    return settings_of(kind)(runtime)


def context_for(runtime: ServiceRuntime, session: AsyncSession, actor: Actor, kind: type[S]) -> Ctx[S]:
    """A context outside a request (a consumer, a scheduler, a gRPC call)."""
    return Ctx(
        session=session,
        outbox=runtime.outbox,
        clock=runtime.clock,
        actor=actor,
        settings=_settings(runtime, kind),
    )


def context_factory(kind: type[S]) -> Callable[[ServiceRuntime, AsyncSession, Actor], Ctx[S]]:
    """``context_for`` bound to a service's settings class (what ``fmc_common.grpc_calls`` takes)."""

    def make(runtime: ServiceRuntime, session: AsyncSession, actor: Actor) -> Ctx[S]:
        return context_for(runtime, session, actor, kind)

    return make


@dataclass(frozen=True)
class ContextDependencies(Generic[S]):
    """The three dependency functions a service wraps in its ``Annotated`` aliases."""

    actor: Callable[..., Awaitable[Ctx[S]]]
    operator: Callable[..., Awaitable[Ctx[S]]]
    anyone: Callable[..., Awaitable[PublicCtx[S]]]


def context_dependencies(kind: type[S]) -> ContextDependencies[S]:
    async def actor_ctx(runtime: RuntimeDep, session: SessionDep, actor: CurrentActor) -> Ctx[S]:
        return context_for(runtime, session, actor, kind)

    async def operator_ctx(runtime: RuntimeDep, session: SessionDep, actor: OperatorOnly) -> Ctx[S]:
        return context_for(runtime, session, actor, kind)

    async def public_ctx(runtime: RuntimeDep, session: SessionDep, actor: OptionalActor) -> PublicCtx[S]:
        return PublicCtx(session=session, clock=runtime.clock, actor=actor, settings=_settings(runtime, kind))

    return ContextDependencies(actor=actor_ctx, operator=operator_ctx, anyone=public_ctx)
