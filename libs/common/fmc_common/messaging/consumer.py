"""The consumer runner: inbox deduplication, bounded retries, dead letters, graceful shutdown.

For each message: decode the envelope, look the type up, validate the data, then in ONE transaction
record the event id in the inbox and apply the handler's effect. A redelivered event finds its id
in the inbox and changes nothing. Offsets are committed only after the effect is committed (or the
message was dead-lettered with the broker's acknowledgement), so a crash in between redelivers
rather than loses.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fmc_common.clock import Clock
from fmc_common.correlation import correlation_scope
from fmc_common.errors import AppError, PermanentError, TransientError
from fmc_common.events.base import Event
from fmc_common.events.catalog import event_class
from fmc_common.events.envelope import Envelope
from fmc_common.messaging.tables import PlatformTables
from fmc_common.metrics import ServiceMetrics

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Envelope, Any], Awaitable[None]]

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientError,
    OperationalError,
    ConnectionError,
    TimeoutError,
)


@dataclass(frozen=True)
class DeadLetter:
    reason: str
    error: str


class ConsumerRunner:
    """Runs one consumer group over its topics, dispatching events by type to handlers."""

    def __init__(
        self,
        *,
        name: str,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        dead_letter_topic: str,
        handlers: Mapping[type[Event], Handler],
        sessions: async_sessionmaker[AsyncSession],
        tables: PlatformTables,
        clock: Clock,
        max_retries: int = 5,
        retry_backoff: float = 0.2,
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self.name = name
        self._consumer = consumer
        self._producer = producer
        self._dlq = dead_letter_topic
        self._handlers = {cls.event_type: handler for cls, handler in handlers.items()}
        self._sessions = sessions
        self._inbox = tables.inbox
        self._clock = clock
        self._max_retries = max_retries
        self._retry_backoff = retry_backoff
        self._metrics = metrics
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Stop polling; the message in hand is finished and its offset committed."""
        self._stopping.set()

    async def run(self) -> None:
        try:
            while not self._stopping.is_set():
                batches = await self._consumer.getmany(timeout_ms=200)
                for tp, records in batches.items():
                    for record in records:
                        # Finish the message in hand even when asked to stop, then commit it.
                        await self.handle_record(record)
                        await self._commit_offsets({tp: record.offset + 1})
                        if self._stopping.is_set():
                            return
        finally:
            await self._consumer.stop()

    async def _commit_offsets(self, offsets: dict[TopicPartition, int]) -> None:
        await self._consumer.commit(offsets)

    async def handle_record(self, record: ConsumerRecord[bytes, bytes]) -> str:
        """Apply one record; returns the outcome (applied, duplicate, ignored, dead-lettered)."""
        raw = record.value or b""
        try:
            envelope = Envelope.from_bytes(raw)
        except ValidationError as exc:
            return await self._dead_letter(record, DeadLetter("invalid-envelope", _short(exc)))
        cls = event_class(envelope.type)
        if cls is None:
            return await self._dead_letter(record, DeadLetter("unknown-event-type", envelope.type))
        handler = self._handlers.get(envelope.type)
        if handler is None:
            self._count("ignored")
            return "ignored"
        try:
            event = cls.model_validate(envelope.data)
        except ValidationError as exc:
            return await self._dead_letter(record, DeadLetter("schema-violation", _short(exc)))
        with correlation_scope(envelope.correlationid, causation_id=envelope.id):
            return await self._apply_with_retries(record, envelope, event, handler)

    async def _apply_with_retries(
        self, record: ConsumerRecord[bytes, bytes], envelope: Envelope, event: Event, handler: Handler
    ) -> str:
        attempt = 0
        while True:
            try:
                outcome = await self._apply_once(envelope, event, handler)
                self._count(outcome)
                return outcome
            except TRANSIENT_ERRORS as exc:
                attempt += 1
                if attempt > self._max_retries:
                    return await self._dead_letter(record, DeadLetter("retries-exhausted", repr(exc)))
                if self._metrics:
                    self._metrics.consumer_retries.labels(consumer=self.name).inc()
                delay = self._retry_backoff * (2 ** (attempt - 1)) * (0.5 + random.random())  # noqa: S311
                log.warning(
                    "transient failure, retrying",
                    extra={"event_id": envelope.id, "attempt": attempt, "error": repr(exc)},
                )
                await asyncio.sleep(delay)
            except (PermanentError, ValidationError, DBAPIError, ValueError, LookupError) as exc:
                return await self._dead_letter(record, DeadLetter("handler-rejected", repr(exc)))
            except Exception as exc:
                if isinstance(exc, AppError) and exc.status < 500:
                    # A rule of the service refused the event (a step its state does not allow, a
                    # record it does not know): retrying cannot help, and the letter names the rule.
                    letter = DeadLetter("handler-rejected", f"{exc.code}: {exc}")
                    return await self._dead_letter(record, letter)
                log.exception("handler failed", extra={"event_id": envelope.id})
                return await self._dead_letter(record, DeadLetter("handler-failed", repr(exc)))

    async def _apply_once(self, envelope: Envelope, event: Event, handler: Handler) -> str:
        try:
            async with self._sessions() as session, session.begin():
                seen = await session.scalar(
                    select(self._inbox.c.event_id).where(
                        self._inbox.c.consumer == self.name, self._inbox.c.event_id == envelope.id
                    )
                )
                if seen is not None:
                    return "duplicate"
                await session.execute(
                    self._inbox.insert().values(
                        consumer=self.name,
                        event_id=envelope.id,
                        event_type=envelope.type,
                        handled_at=self._clock.now(),
                    )
                )
                await handler(session, envelope, event)
            return "applied"
        except IntegrityError:
            # Another member of the group applied the same event concurrently (a rebalance).
            if await self._already_handled(envelope.id):
                return "duplicate"
            raise

    async def _already_handled(self, event_id: str) -> bool:
        async with self._sessions() as session:
            found = await session.scalar(
                select(self._inbox.c.event_id).where(
                    self._inbox.c.consumer == self.name, self._inbox.c.event_id == event_id
                )
            )
            return found is not None

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], letter: DeadLetter) -> str:
        """Send the original bytes with the reason; wait for the acknowledgement before going on."""
        headers = [
            *list(record.headers or ()),
            ("fmc-dlq-reason", letter.reason.encode()),
            ("fmc-dlq-error", letter.error[:2000].encode()),
            ("fmc-dlq-consumer", self.name.encode()),
            ("fmc-dlq-source-topic", record.topic.encode()),
            ("fmc-dlq-source-partition", str(record.partition).encode()),
            ("fmc-dlq-source-offset", str(record.offset).encode()),
            ("fmc-dlq-time", self._clock.now().isoformat().encode()),
        ]
        await self._producer.send_and_wait(self._dlq, value=record.value, key=record.key, headers=headers)
        log.error(
            "event dead-lettered",
            extra={
                "reason": letter.reason,
                "error": letter.error[:500],
                "topic": record.topic,
                "offset": record.offset,
            },
        )
        self._count("dead-lettered")
        return "dead-lettered"

    def _count(self, outcome: str) -> None:
        if self._metrics:
            self._metrics.consumed.labels(consumer=self.name, outcome=outcome).inc()


def _short(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in exc.errors()[:10])
