"""Dependencies for endpoints: the caller (from its bearer token), a transaction owned by the edge,
and typed access to what the composition root built (settings, service components).

This module is the only place that reads ``request.app.state``; endpoints declare what they need
with ``Annotated`` aliases (``SessionDep``, ``CurrentActor``, a service's ``SettingsDep``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.auth import Actor, Role
from fmc_common.errors import Unauthenticated
from fmc_common.runtime import ServiceRuntime

T = TypeVar("T")

_bearer = HTTPBearer(
    auto_error=False, description="JWT with a role claim (operator, evaluator, team, service)"
)


def runtime_of(request: Request) -> ServiceRuntime:
    runtime = request.app.state.runtime
    if not isinstance(runtime, ServiceRuntime):
        raise TypeError("the app was not built by fmc_common.web.app.build_app")
    return runtime


RuntimeDep = Annotated[ServiceRuntime, Depends(runtime_of)]


async def get_actor(
    runtime: RuntimeDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("missing bearer token")
    return await runtime.verifier.verify(credentials.credentials)


async def get_optional_actor(
    runtime: RuntimeDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Actor | None:
    """For public views: anonymous callers are welcome, but a bad token is still refused."""
    if credentials is None:
        return None
    return await runtime.verifier.verify(credentials.credentials)


def require_roles(*roles: Role) -> Callable[[Actor], Actor]:
    def dependency(actor: Annotated[Actor, Depends(get_actor)]) -> Actor:
        return actor.require(*roles)

    return dependency


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the endpoint returns, rolled back when it raises.

    Declared with scope="function" so the commit happens before the response is sent: a client
    never sees success for a write that was not committed.
    """
    async with runtime.sessions() as session, session.begin():
        yield session
    runtime.after_commit()


def settings_of(kind: type[T]) -> Callable[[ServiceRuntime], T]:
    """A dependency giving the service's own settings class (``Annotated[X, Depends(settings_of(X))]``)."""

    def dependency(runtime: RuntimeDep) -> T:
        settings = runtime.settings
        if not isinstance(settings, kind):
            raise TypeError(f"the runtime holds {type(settings).__name__}, not {kind.__name__}")
        return settings

    return dependency


def component(kind: type[T]) -> Callable[[ServiceRuntime], T]:
    """A dependency giving what the composition root registered with ``runtime.provide``."""

    def dependency(runtime: RuntimeDep) -> T:
        return runtime.component(kind)

    return dependency


CurrentActor = Annotated[Actor, Depends(get_actor)]
OptionalActor = Annotated[Actor | None, Depends(get_optional_actor)]
OperatorOnly = Annotated[Actor, Depends(require_roles(Role.OPERATOR))]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
