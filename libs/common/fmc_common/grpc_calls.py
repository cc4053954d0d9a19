"""One gRPC call = one authorised unit of work, with domain errors mapped to status codes.

A servicer method hands ``run_call`` the roles it admits and its work; the service says once how
its unit of work is built (``make_context``, e.g. ``fmc_common.web.context.context_for`` bound to
its settings class), so the same helper serves every service whatever its context type.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.auth import Actor, Role
from fmc_common.db import transaction
from fmc_common.errors import AppError, InvalidInput
from fmc_common.grpc_support import ServicerContext, abort_with, authorize
from fmc_common.runtime import ServiceRuntime

C = TypeVar("C")
T = TypeVar("T")

ContextFactory = Callable[[ServiceRuntime, AsyncSession, Actor], C]


async def run_call(
    runtime: ServiceRuntime,
    context: ServicerContext,
    roles: tuple[Role, ...],
    work: Callable[[C], Awaitable[T]],
    *,
    make_context: ContextFactory[C],
) -> T:
    """Authorise the caller for ``roles``, run ``work`` in a transaction, commit, wake the relay."""
    actor = await authorize(context, runtime.verifier, *roles)
    try:
        async with transaction(runtime.sessions) as session:
            result = await work(make_context(runtime, session, actor))
        runtime.after_commit()
        return result
    except AppError as error:
        await abort_with(context, error)
        raise


def parse_uuid(value: str, field: str) -> uuid.UUID:
    """A UUID field of a request message; a malformed one is the caller's error (INVALID_ARGUMENT)."""
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidInput(f"{field} must be a UUID") from exc
