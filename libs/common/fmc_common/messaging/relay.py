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
from aiokafka.partitioner import DefaultPartitioner
from sqlalchemy import Row, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fmc_common.clock import Clock
from fmc_common.events.envelope import CONTENT_TYPE
from fmc_common.messaging.tables import PlatformTables
from fmc_common.metrics import ServiceMetrics

log = logging.getLogger(__name__)

# Any constant shared by the relays of one database: pg_try_advisory_xact_lock(key).
RELAY_LOCK_KEY = 0x464D43_0001
CONTENT_TYPE_BYTES = CONTENT_TYPE.encode()


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
        linger: float = 0.005,
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self._sessions = sessions
        self._outbox = tables.outbox
        self._producer = producer
        self._clock = clock
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._linger = linger
        self._metrics = metrics
        self._wake = asyncio.Event()
        self._partitioner = DefaultPartitioner()
        # Event-loop times (monotonic) of the last round that ended and the last that succeeded
        # (nothing failed; a round without the lock counts): a relay process's liveness and readiness.
        self.last_round_at: float | None = None
        self.last_success_at: float | None = None

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
        """Publish one batch. Returns how many rows were published and how many failed.

        PostgreSQL: one transaction holds the advisory lock from read to mark, so replicas never
        relay concurrently. SQLite (embedded, one process per database file): the read and the
        mark are two short transactions, so writers are not blocked while the broker answers.
        """
        if self._dialect() == "postgresql":
            async with self._sessions() as session, session.begin():
                if not await self._acquire(session):
                    return RelayResult(0, 0)
                rows = await self._read(session)
                sent = await self._publish(rows) if rows else []
                if sent:
                    await self._mark_sent(session, sent)
        else:
            async with self._sessions() as session, session.begin():
                rows = await self._read(session)
            sent = await self._publish(rows) if rows else []
            if sent:
                async with self._sessions() as session, session.begin():
                    await self._mark_sent(session, sent)
        failed = len(rows) - len(sent)
        if self._metrics:
            self._metrics.outbox_published.inc(len(sent))
            if failed:
                self._metrics.outbox_failures.inc(failed)
        return RelayResult(len(sent), failed)

    def _dialect(self) -> str:
        bind = self._sessions.kw.get("bind")
        return bind.dialect.name if bind is not None else "unknown"

    async def _read(self, session: AsyncSession) -> Sequence[Any]:
        columns = self._outbox.c
        result = await session.execute(
            select(
                columns.seq, columns.event_id, columns.event_type, columns.topic, columns.key, columns.payload
            )
            .where(columns.sent_at.is_(None))
            .order_by(columns.seq)
            .limit(self._batch_size)
        )
        return result.all()

    async def _acquire(self, session: AsyncSession) -> bool:
        return bool(await session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": RELAY_LOCK_KEY}))

    async def _publish(self, rows: Sequence[Row[Any]]) -> list[int]:
        """Send every row, wait for the acknowledgements; return the seqs that may be marked sent.

        Rows are appended to one record batch per partition (the partition chosen from the key
        exactly as the default Kafka partitioner does), which keeps the key's order and avoids
        per-message futures. After a failed batch, later rows with a key of that batch are not
        marked even if acknowledged: they are sent again after it, so the last copy a consumer
        sees keeps the key's order.
        """
        partitions: dict[str, list[int]] = {}
        pending: dict[tuple[str, int], list[Row[Any]]] = {}
        for row in rows:
            if row.topic not in partitions:
                partitions[row.topic] = sorted(await self._producer.partitions_for(row.topic))
            key = row.key.encode()
            partition = self._partitioner(key, partitions[row.topic], partitions[row.topic])
            pending.setdefault((row.topic, partition), []).append(row)
        sends: list[tuple[list[Row[Any]], asyncio.Future[Any]]] = []
        for (topic, partition), partition_rows in pending.items():
            batch = self._producer.create_batch()
            members: list[Row[Any]] = []
            for row in partition_rows:
                headers = [
                    ("content-type", CONTENT_TYPE_BYTES),
                    ("ce_type", row.event_type.encode()),
                    ("ce_id", row.event_id.encode()),
                ]
                if (
                    batch.append(key=row.key.encode(), value=row.payload, timestamp=None, headers=headers)
                    is None
                ):
                    sends.append(
                        (members, await self._producer.send_batch(batch, topic, partition=partition))
                    )
                    batch = self._producer.create_batch()
                    members = []
                    batch.append(key=row.key.encode(), value=row.payload, timestamp=None, headers=headers)
                members.append(row)
            if members:
                sends.append((members, await self._producer.send_batch(batch, topic, partition=partition)))
        results = await asyncio.gather(*(future for _, future in sends), return_exceptions=True)
        failed_keys: set[tuple[str, str]] = set()
        for (members, _), result in zip(sends, results, strict=True):
            if isinstance(result, BaseException):
                failed_keys.update((row.topic, row.key) for row in members)
                log.warning("outbox publish failed", extra={"rows": len(members), "error": repr(result)})
        return sorted(
            row.seq for members, _ in sends for row in members if (row.topic, row.key) not in failed_keys
        )

    async def _mark_sent(self, session: AsyncSession, seqs: list[int]) -> None:
        await session.execute(
            update(self._outbox).where(self._outbox.c.seq.in_(seqs)).values(sent_at=self._clock.now())
            if seqs[-1] - seqs[0] + 1 != len(seqs)
            # The common case, a contiguous run of seqs: a range is cheaper than a long IN list.
            else update(self._outbox)
            .where(self._outbox.c.seq.between(seqs[0], seqs[-1]))
            .values(sent_at=self._clock.now())
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set; survives broker and database hiccups by retrying."""
        backoff = self._poll_interval
        while not stop.is_set():
            try:
                result = await self.run_once()
                backoff = self._poll_interval
                if not result.failed:
                    self.last_success_at = asyncio.get_running_loop().time()
            except Exception:
                log.exception("outbox relay round failed; retrying")
                result = RelayResult(0, 1)
                backoff = min(backoff * 2, 5.0)
            self.last_round_at = asyncio.get_running_loop().time()
            if result.published >= self._batch_size:
                continue
            self._wake.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            await asyncio.wait(waiters, timeout=backoff, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
            if self._linger and not stop.is_set():
                # Like a producer's linger: let a burst of commits accumulate into one round.
                await asyncio.sleep(self._linger)
