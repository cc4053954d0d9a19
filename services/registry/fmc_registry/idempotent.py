"""Idempotency-Key handling for the registry's retryable writes (same key + body -> same response)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from fmc_common.idempotency import IdempotencyStore, StoredResponse, request_hash
from fmc_registry.base import PLATFORM
from fmc_registry.deps import RegistryCtx as Ctx

M = TypeVar("M", bound=BaseModel)


async def once(
    ctx: Ctx,
    *,
    operation: str,
    key: str | None,
    payload: Any,
    status_code: int,
    model: type[M],
    run: Callable[[], Awaitable[M]],
) -> M:
    """Run ``run`` once per (caller, operation, key); a retry gets the stored response back.

    The stored response is written in the transaction of the effect, so after a crash a retry finds
    both or neither.
    """
    if key is None:
        return await run()
    store = IdempotencyStore(PLATFORM, ctx.clock)
    scope = f"{operation}:{ctx.actor.subject}"
    fingerprint = request_hash(payload)
    stored = await store.lookup(ctx.session, scope, key, fingerprint)
    if stored is not None:
        return model.model_validate(stored.body)
    result = await run()
    await store.store(
        ctx.session, scope, key, fingerprint, StoredResponse(status_code, result.model_dump(mode="json"))
    )
    return result
