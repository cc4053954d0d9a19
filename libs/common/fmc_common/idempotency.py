"""Idempotency keys for writes that may be retried: same key and body -> the same response.

One rule for every idempotent write (REST header or gRPC field): the request is fingerprinted
(`request_hash`); the first use of a key runs the work and keeps the fingerprint with its result; a
retry with the same key and body gets that result back without running the work again; the same key
with another body is refused (`IdempotencyKeyReused`, 409). Where the key is kept is a `KeyLedger`:
the platform's `idempotency_keys` table (`StoredResponses`, the default) or the columns of the row
the write creates (grievance's objections keep `client_key` and `request_hash` themselves).

    ledger = StoredResponses(session, PLATFORM, clock, operation="register-team", caller=actor, model=TeamOut)
    team = await once(ledger, key, body.model_dump(mode="json"), run)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.auth import Actor
from fmc_common.clock import Clock
from fmc_common.errors import IdempotencyKeyReused, InvalidInput
from fmc_common.messaging.tables import PlatformTables

MAX_KEY_LENGTH = 200

R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)


def request_hash(payload: Any) -> str:
    """The fingerprint of a request body (JSON with sorted keys, so field order does not matter)."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Recorded(Generic[R]):
    """What a key was first used for: the request's fingerprint and the result a retry gets back."""

    fingerprint: str
    result: R


class KeyLedger(Protocol[R]):
    """Where one kind of request keeps its keys."""

    async def find(self, key: str) -> Recorded[R] | None: ...

    async def keep(self, key: str, fingerprint: str, result: R) -> None:
        """Called in the transaction of the effect, so a retry after a crash finds both or neither."""
        ...


class IdempotentRequest(Generic[R]):
    """One keyed request. `replay` may be asked again after taking a lock (a racing retry committed)."""

    def __init__(self, ledger: KeyLedger[R], key: str, payload: Any, *, what: str = "request") -> None:
        self.ledger = ledger
        self.key = key
        self.fingerprint = request_hash(payload)
        self._what = what

    async def replay(self) -> R | None:
        """The result of the first use of this key, or None; the same key with another body is refused."""
        found = await self.ledger.find(self.key)
        if found is None:
            return None
        if found.fingerprint != self.fingerprint:
            raise IdempotencyKeyReused(f"the key {self.key!r} was already used for another {self._what}")
        return found.result

    async def run(self, work: Callable[[], Awaitable[R]]) -> R:
        """Replay, or do the work once and keep its result under the key."""
        replayed = await self.replay()
        if replayed is not None:
            return replayed
        result = await work()
        await self.ledger.keep(self.key, self.fingerprint, result)
        return result


async def once(ledger: KeyLedger[R], key: str | None, payload: Any, work: Callable[[], Awaitable[R]]) -> R:
    """Run ``work`` once per key (no key: every time); see the module docstring."""
    if key is None:
        return await work()
    return await IdempotentRequest(ledger, key, payload).run(work)


class StoredResponses(Generic[M]):
    """A `KeyLedger` over the platform's ``idempotency_keys`` table: the response body is stored as JSON.

    Keys are scoped by operation and caller (``"register-team:<subject>"``): two callers' keys never meet.
    """

    def __init__(
        self,
        session: AsyncSession,
        tables: PlatformTables,
        clock: Clock,
        *,
        operation: str,
        caller: Actor,
        model: type[M],
        status_code: int = 201,
    ) -> None:
        self._session = session
        self._table = tables.idempotency
        self._clock = clock
        self._scope = f"{operation}:{caller.subject}"
        self._model = model
        self._status_code = status_code

    async def find(self, key: str) -> Recorded[M] | None:
        if not key or len(key) > MAX_KEY_LENGTH:
            raise InvalidInput(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
        table = self._table
        query = select(table.c.request_hash, table.c.response).where(
            table.c.scope == self._scope, table.c.key == key
        )
        row = (await self._session.execute(query)).one_or_none()
        if row is None:
            return None
        return Recorded(row.request_hash, self._model.model_validate(json.loads(row.response)))

    async def keep(self, key: str, fingerprint: str, result: M) -> None:
        await self._session.execute(
            self._table.insert().values(
                scope=self._scope,
                key=key,
                request_hash=fingerprint,
                status_code=self._status_code,
                response=json.dumps(result.model_dump(mode="json"), default=str),
                created_at=self._clock.now(),
            )
        )
