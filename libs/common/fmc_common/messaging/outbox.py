"""The transactional outbox: events are written in the same transaction as the change they announce."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.clock import Clock
from fmc_common.correlation import current_causation_id, current_correlation_id
from fmc_common.events.base import Event
from fmc_common.events.envelope import CONTENT_TYPE, Envelope, envelope_for
from fmc_common.messaging.tables import PlatformTables


class Outbox:
    """Writes events to the service's outbox table; the relay publishes them later."""

    def __init__(self, tables: PlatformTables, source: str, clock: Clock) -> None:
        self._table = tables.outbox
        self._source = source
        self._clock = clock

    async def add(self, session: AsyncSession, event: Event) -> Envelope:
        """Stage ``event`` in the caller's transaction. Nothing is sent unless that transaction commits."""
        envelope = envelope_for(
            event_type=event.event_type,
            source=self._source,
            data=event.model_dump(mode="json"),
            time=self._clock.now(),
            subject=event.subject(),
            dataschema=f"https://fmc.example/schemas/{event.event_type}.json",
            correlation_id=current_correlation_id(),
            causation_id=current_causation_id(),
        )
        await session.execute(
            self._table.insert().values(
                event_id=envelope.id,
                event_type=envelope.type,
                topic=str(event.topic),
                key=event.partition_key(),
                payload=envelope.to_bytes(),
                headers={"content-type": CONTENT_TYPE, "ce_type": envelope.type, "ce_id": envelope.id},
                created_at=envelope.time,
            )
        )
        return envelope
