"""The transactional outbox: events are written in the same transaction as the change they announce."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.clock import Clock
from fmc_common.correlation import current_causation_id, current_correlation_id
from fmc_common.events.base import Event
from fmc_common.events.envelope import encode_envelope, new_event_id
from fmc_common.messaging.tables import PlatformTables
from fmc_common.tracing import current_traceparent


class Outbox:
    """Writes events to the service's outbox table; the relay publishes them later."""

    def __init__(self, tables: PlatformTables, source: str, clock: Clock) -> None:
        self._table = tables.outbox
        self._source = source
        self._clock = clock

    async def add(self, session: AsyncSession, event: Event) -> str:
        """Stage ``event`` in the caller's transaction; returns its event id. Sent only if that commits."""
        event_id = (await self.add_many(session, [event]))[0]
        return event_id

    async def add_many(self, session: AsyncSession, events: Sequence[Event]) -> list[str]:
        """Stage several events in one statement, in order (their ``seq`` follows the list).

        Returns the event ids. The events are already validated models, so the envelope is
        serialised directly (no second validation pass): this is the hot path of every write.
        The insert goes through the session's own connection (same transaction) as a Core
        executemany, skipping the ORM's per-statement bookkeeping.
        """
        if not events:
            return []
        rows = self._rows(events)
        connection = await session.connection()
        await connection.execute(self._table.insert(), rows)
        return [row["event_id"] for row in rows]

    def stage(self, connection: Connection, events: Sequence[Event]) -> list[str]:
        """``add_many`` through a synchronous connection, in its transaction: for a writer that runs a
        whole transaction in its database driver's thread (one hand-off instead of one per statement)."""
        if not events:
            return []
        rows = self._rows(events)
        connection.execute(self._table.insert(), rows)
        return [row["event_id"] for row in rows]

    def _rows(self, events: Sequence[Event]) -> list[dict[str, Any]]:
        now = self._clock.now()
        correlation_id = current_correlation_id()
        causation_id = current_causation_id()
        traceparent = current_traceparent()
        rows = []
        for event in events:
            event_id = new_event_id()
            rows.append(
                {
                    "event_id": event_id,
                    "event_type": event.event_type,
                    "topic": str(event.topic),
                    "key": event.partition_key(),
                    "payload": encode_envelope(
                        event,
                        event_id=event_id,
                        source=self._source,
                        time=now,
                        correlation_id=correlation_id,
                        causation_id=causation_id,
                        traceparent=traceparent,
                    ),
                    "created_at": now,
                }
            )
        return rows
