"""The outbox relay: publishes staged events in order and marks them sent once the broker acknowledged.

One relay publishes at a time (on PostgreSQL a transaction-scoped advisory lock elects it, so extra
replicas wait). A batch is read in ``seq`` order, sent, and only the rows the broker acknowledged
are marked sent, in the same transaction that read them. If the process dies between the
acknowledgement and the commit, the rows are sent again after restart: consumers deduplicate by
event id (inbox), which makes delivery effectively once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import Row, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fmc_common.clock import Clock
from fmc_common.messaging.tables import PlatformTables
from fmc_common.metrics import ServiceMetrics

log = logging.getLogger(__name__)

# Any constant shared by the relays of one database: pg_try_advisory_xact_lock(key).
RELAY_LOCK_KEY = 0x464D43_0001


@dataclass(frozen=True)
class RelayResult:
    published: int
    failed: int


class OutboxRelay:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        tables: PlatformTables,
        producer: AIOKafkaProducer,
        clock: Clock,
        batch_size: int = 500,
        poll_interval: float = 0.2,
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self._sessions = sessions
        self._outbox = tables.outbox
        self._producer = producer
        self._clock = clock
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._metrics = metrics
        self._wake = asyncio.Event()

    def notify(self) -> None:
        """Hint that new rows were committed (skips the wait until the next poll)."""
        self._wake.set()

    async def pending(self) -> int:
        async with self._sessions() as session:
            count = await session.scalar(
                select(func.count()).select_from(self._outbox).where(self._outbox.c.sent_at.is_(None))
            )
            return int(count or 0)

    async def run_once(self) -> RelayResult:
        """Publish one batch. Returns how many rows were published and how many failed."""
        async with self._sessions() as session, session.begin():
            if not await self._acquire(session):
                return RelayResult(0, 0)
            rows = (
                await session.execute(
                    select(self._outbox)
                    .where(self._outbox.c.sent_at.is_(None))
                    .order_by(self._outbox.c.seq)
                    .limit(self._batch_size)
                )
            ).all()
            if not rows:
                return RelayResult(0, 0)
            sent = await self._publish(rows)
            if sent:
                await self._mark_sent(session, sent)
        failed = len(rows) - len(sent)
        if self._metrics:
            self._metrics.outbox_published.inc(len(sent))
            if failed:
                self._metrics.outbox_failures.inc(failed)
        return RelayResult(len(sent), failed)

    async def _acquire(self, session: AsyncSession) -> bool:
        if session.get_bind().dialect.name != "postgresql":
            return True
        return bool(await session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": RELAY_LOCK_KEY}))

    async def _publish(self, rows: Sequence[Row[Any]]) -> list[int]:
        """Send every row, wait for the acknowledgements; return the seqs that may be marked sent.

        After a failure for a key, later rows of that key are not marked even if acknowledged, so
        they are sent again after the failed one and a consumer's last copy keeps the key's order.
        """
        futures = []
        for row in rows:
            headers = [(k, str(v).encode()) for k, v in row.headers.items()]
            futures.append(
                await self._producer.send(row.topic, value=row.payload, key=row.key.encode(), headers=headers)
            )
        results = await asyncio.gather(*futures, return_exceptions=True)
        sent: list[int] = []
        failed_keys: set[tuple[str, str]] = set()
        for row, result in zip(rows, results, strict=True):
            partition_key = (row.topic, row.key)
            if isinstance(result, BaseException):
                failed_keys.add(partition_key)
                log.warning("outbox publish failed", extra={"event_id": row.event_id, "error": repr(result)})
            elif partition_key not in failed_keys:
                sent.append(row.seq)
        return sent

    async def _mark_sent(self, session: AsyncSession, seqs: list[int]) -> None:
        await session.execute(
            update(self._outbox).where(self._outbox.c.seq.in_(seqs)).values(sent_at=self._clock.now())
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set; survives broker and database hiccups by retrying."""
        backoff = self._poll_interval
        while not stop.is_set():
            try:
                result = await self.run_once()
                backoff = self._poll_interval
            except Exception:
                log.exception("outbox relay round failed; retrying")
                result = RelayResult(0, 1)
                backoff = min(backoff * 2, 5.0)
            if result.published >= self._batch_size:
                continue
            self._wake.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            await asyncio.wait(waiters, timeout=backoff, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
