"""Idempotency keys for writes that may be retried: same key and body -> the same stored response."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.clock import Clock
from fmc_common.errors import IdempotencyKeyReused, InvalidInput
from fmc_common.messaging.tables import PlatformTables

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: dict[str, Any]


def request_hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


class IdempotencyStore:
    def __init__(self, tables: PlatformTables, clock: Clock) -> None:
        self._table = tables.idempotency
        self._clock = clock

    async def lookup(
        self, session: AsyncSession, scope: str, key: str, fingerprint: str
    ) -> StoredResponse | None:
        """The response stored for this key, or None. The same key with another body is refused."""
        if not key or len(key) > MAX_KEY_LENGTH:
            raise InvalidInput(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
        row = (
            await session.execute(
                select(self._table).where(self._table.c.scope == scope, self._table.c.key == key)
            )
        ).one_or_none()
        if row is None:
            return None
        if row.request_hash != fingerprint:
            raise IdempotencyKeyReused(f"the key {key!r} was already used with a different request body")
        return StoredResponse(status_code=row.status_code, body=json.loads(row.response))

    async def store(
        self, session: AsyncSession, scope: str, key: str, fingerprint: str, response: StoredResponse
    ) -> None:
        """Stored in the transaction of the effect: a retry after a crash finds both or neither."""
        await session.execute(
            self._table.insert().values(
                scope=scope,
                key=key,
                request_hash=fingerprint,
                status_code=response.status_code,
                response=json.dumps(response.body, default=str),
                created_at=self._clock.now(),
            )
        )
