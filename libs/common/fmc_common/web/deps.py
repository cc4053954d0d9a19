"""Dependencies for endpoints: the caller (from its bearer token) and a transaction owned by the edge."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.auth import Actor, Role, verify_token
from fmc_common.errors import Unauthenticated

_bearer = HTTPBearer(
    auto_error=False, description="JWT with a role claim (operator, evaluator, team, service)"
)


def get_actor(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("missing bearer token")
    return verify_token(request.app.state.runtime.settings.auth, credentials.credentials)


def get_optional_actor(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Actor | None:
    """For public views: anonymous callers are welcome, but a bad token is still refused."""
    if credentials is None:
        return None
    return verify_token(request.app.state.runtime.settings.auth, credentials.credentials)


def require_roles(*roles: Role) -> Callable[[Actor], Actor]:
    def dependency(actor: Annotated[Actor, Depends(get_actor)]) -> Actor:
        return actor.require(*roles)

    return dependency


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the endpoint returns, rolled back when it raises.

    Declared with scope="function" so the commit happens before the response is sent: a client
    never sees success for a write that was not committed.
    """
    runtime = request.app.state.runtime
    async with runtime.sessions() as session, session.begin():
        yield session
    runtime.after_commit()


CurrentActor = Annotated[Actor, Depends(get_actor)]
OptionalActor = Annotated[Actor | None, Depends(get_optional_actor)]
OperatorOnly = Annotated[Actor, Depends(require_roles(Role.OPERATOR))]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
