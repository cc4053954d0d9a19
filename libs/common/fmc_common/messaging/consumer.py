"""The consumer runner: inbox deduplication, bounded retries, dead letters, graceful shutdown.

For each message: decode the envelope, look the type up, validate the data, then in ONE transaction
record the event id in the inbox and apply the handler's effect. A redelivered event finds its id
in the inbox and changes nothing. Offsets are committed only after the effect is committed (or the
message was dead-lettered with the broker's acknowledgement), so a crash in between redelivers
rather than loses.

Transient failures (a database failover, a broker election) are retried with capped exponential
back-off for a time budget, long enough to wait an outage out, before the event is dead-lettered. A
message too large to be copied to the dead-letter topic whole is dead-lettered as a reference (where
it is, its size and digest), so one oversize event never stops its topic.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import MessageSizeTooLargeError
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
from fmc_common.tracing import consumer_span

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Envelope, Any], Awaitable[None]]

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientError,
    OperationalError,
    ConnectionError,
    TimeoutError,
)


# Outcomes of one record. A handed-back record is neither applied nor dead-lettered: its offset is
# not committed, so it is delivered again after the consumer restarts.
HANDED_BACK = "handed-back"

# Room left for the record's framing and the dead-letter headers when judging whether a copy fits.
_DEAD_LETTER_OVERHEAD = 4096


@dataclass(frozen=True)
class DeadLetter:
    reason: str
    error: str


@dataclass(frozen=True)
class RetryPolicy:
    """How long a transient failure is retried before the event is dead-lettered.

    Delays grow from ``backoff`` by doubling up to ``backoff_max`` (each with jitter); the event is
    dead-lettered once ``budget`` seconds have passed since its first failure, or after
    ``max_attempts`` retries when that is set. Defaults outlast a PostgreSQL failover or a Kafka
    leader election (docs/operations.md).
    """

    backoff: float = 0.2
    backoff_max: float = 30.0
    budget: float = 300.0
    max_attempts: int | None = None

    def delay(self, attempt: int) -> float:
        base = min(self.backoff_max, self.backoff * (2 ** min(attempt - 1, 30)))
        return float(base * (0.5 + random.random()))  # noqa: S311 (jitter, not security)

    def exhausted(self, attempt: int, elapsed: float, next_delay: float) -> bool:
        if self.max_attempts is not None and attempt > self.max_attempts:
            return True
        return elapsed + next_delay > self.budget


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
        max_retries: int | None = None,
        retry_backoff: float = 0.2,
        retry_backoff_max: float = 30.0,
        retry_budget: float = 300.0,
        max_message_bytes: int = 1_048_576,
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self.name = name
        self._consumer = consumer
        self._producer = producer
        self._dlq = dead_letter_topic
        self._handlers = {cls.event_type: handler for cls, handler in handlers.items()}
        self._sessions = sessions
        self._inbox = tables.inbox
        self._dead_letters = tables.dead_letters
        self._clock = clock
        self._retry = RetryPolicy(
            backoff=retry_backoff,
            backoff_max=retry_backoff_max,
            budget=retry_budget,
            max_attempts=max_retries,
        )
        self._max_message_bytes = max_message_bytes
        self._metrics = metrics
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Stop polling; the message in hand is finished and its offset committed."""
        self._stopping.set()

    async def lag(self) -> int | None:
        """Messages of this member's partitions not handled yet (high-water mark minus position):
        what the broker already told the consumer, so cheap; None before it has fetched anything."""
        total = 0
        try:
            partitions = self._consumer.assignment()
            for tp in partitions:
                high = self._consumer.highwater(tp)
                if high is None:
                    return None
                position = await asyncio.wait_for(self._consumer.position(tp), timeout=1.0)
                total += max(0, high - position)
        except Exception:
            return None
        return total if partitions else None

    async def run(self) -> None:
        try:
            while not self._stopping.is_set():
                batches = await self._consumer.getmany(timeout_ms=200)
                for tp, records in batches.items():
                    for record in records:
                        # Finish the message in hand even when asked to stop, then commit it.
                        if await self.handle_record(record) == HANDED_BACK:
                            return
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
        if len(raw) > self._max_message_bytes:
            letter = DeadLetter("too-large", f"{len(raw)} bytes; the limit is {self._max_message_bytes}")
            return await self._dead_letter(record, letter)
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
        attributes = {
            "messaging.system": "kafka",
            "messaging.destination.name": record.topic,
            "messaging.consumer.group.name": self.name,
        }
        with (
            correlation_scope(envelope.correlationid, causation_id=envelope.id),
            consumer_span(f"process {envelope.type}", envelope.model_extra or {}, attributes),
        ):
            return await self._apply_with_retries(record, envelope, event, handler)

    async def _apply_with_retries(
        self, record: ConsumerRecord[bytes, bytes], envelope: Envelope, event: Event, handler: Handler
    ) -> str:
        attempt = 0
        started = asyncio.get_running_loop().time()
        while True:
            try:
                outcome = await self._apply_once(envelope, event, handler)
                self._count(outcome)
                return outcome
            except TRANSIENT_ERRORS as exc:
                attempt += 1
                delay = self._retry.delay(attempt)
                elapsed = asyncio.get_running_loop().time() - started
                if self._retry.exhausted(attempt, elapsed, delay):
                    return await self._dead_letter(record, DeadLetter("retries-exhausted", repr(exc)))
                if self._metrics:
                    self._metrics.consumer_retries.labels(consumer=self.name).inc()
                log.warning(
                    "transient failure, retrying",
                    extra={"event_id": envelope.id, "attempt": attempt, "error": repr(exc)},
                )
                if await self._stopped_within(delay):
                    # Shutting down mid-outage: hand the event back rather than dead-letter it.
                    self._count(HANDED_BACK)
                    return HANDED_BACK
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

    async def _stopped_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True

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
        """Send the original bytes with the reason; wait for the acknowledgement before going on.

        A record whose copy would exceed the broker's message limit is sent as a reference instead:
        its source position, size and SHA-256, enough to find it and prove which one it was.
        """
        headers = [
            ("fmc-dlq-reason", letter.reason.encode()),
            ("fmc-dlq-error", letter.error[:2000].encode()),
            ("fmc-dlq-consumer", self.name.encode()),
            ("fmc-dlq-source-topic", record.topic.encode()),
            ("fmc-dlq-source-partition", str(record.partition).encode()),
            ("fmc-dlq-source-offset", str(record.offset).encode()),
            ("fmc-dlq-time", self._clock.now().isoformat().encode()),
        ]
        original_headers = list(record.headers or ())
        size = (
            len(record.value or b"")
            + len(record.key or b"")
            + sum(len(k) + len(v) for k, v in [*original_headers, *headers])
        )
        sent_whole = False
        if size + _DEAD_LETTER_OVERHEAD <= self._max_message_bytes:
            try:
                await self._producer.send_and_wait(
                    self._dlq, value=record.value, key=record.key, headers=[*original_headers, *headers]
                )
                sent_whole = True
            except MessageSizeTooLargeError:
                pass
        if not sent_whole:
            await self._producer.send_and_wait(
                self._dlq,
                value=_reference(record, letter),
                key=record.key if len(record.key or b"") <= 1024 else None,
                headers=[*headers, ("fmc-dlq-reference", b"true")],
            )
        log.error(
            "event dead-lettered",
            extra={
                "reason": letter.reason,
                "error": letter.error[:500],
                "topic": record.topic,
                "offset": record.offset,
                "as_reference": not sent_whole,
            },
        )
        await self._tally(record, letter)
        self._count("dead-lettered")
        return "dead-lettered"

    async def _tally(self, record: ConsumerRecord[bytes, bytes], letter: DeadLetter) -> None:
        """Note the letter in the service's own table for the operators' health view.

        After the broker acknowledged the letter, and best effort: the topic is the record, this is a
        tally. A database that is down (often why the event was dead-lettered) must not stop the
        consumer nor make it dead-letter the same message again, so a failure is only logged.
        """
        try:
            async with self._sessions() as session, session.begin():
                await session.execute(
                    self._dead_letters.insert().values(
                        consumer=self.name[:200],
                        source_topic=record.topic[:200],
                        reason=letter.reason,
                        dead_letter_topic=self._dlq[:200],
                        at=self._clock.now(),
                    )
                )
        except Exception:
            log.warning("dead letter not tallied", extra={"topic": record.topic, "offset": record.offset})

    def _count(self, outcome: str) -> None:
        if self._metrics:
            self._metrics.consumed.labels(consumer=self.name, outcome=outcome).inc()


def _reference(record: ConsumerRecord[bytes, bytes], letter: DeadLetter) -> bytes:
    value = record.value or b""
    key = record.key or b""
    return json.dumps(
        {
            "reference": True,
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "key_base64": base64.b64encode(key[:1024]).decode() if key else None,
            "key_size": len(key),
            "size": len(value),
            "sha256": hashlib.sha256(value).hexdigest(),
            "reason": letter.reason,
            "error": letter.error[:2000],
        }
    ).encode()


def _short(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in exc.errors()[:10])
