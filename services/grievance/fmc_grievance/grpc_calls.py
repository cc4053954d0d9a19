"""One gRPC call = one authorised unit of work, with domain errors mapped to status codes."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from fmc_common.auth import Role
from fmc_common.db import transaction
from fmc_common.errors import AppError, InvalidInput
from fmc_common.grpc_support import ServicerContext, abort_with, authorize
from fmc_common.runtime import ServiceRuntime
from fmc_grievance.deps import GrievanceCtx, context_of

T = TypeVar("T")


async def run_call(
    runtime: ServiceRuntime,
    context: ServicerContext,
    roles: tuple[Role, ...],
    work: Callable[[GrievanceCtx], Awaitable[T]],
) -> T:
    """Authorise the caller for ``roles``, run ``work`` in a transaction, commit, wake the relay."""
    actor = await authorize(context, runtime.settings.auth, *roles)
    try:
        async with transaction(runtime.sessions) as session:
            result = await work(context_of(runtime, session, actor))
        runtime.after_commit()
        return result
    except AppError as error:
        await abort_with(context, error)
        raise


def parse_uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidInput(f"{field} must be a UUID") from exc
