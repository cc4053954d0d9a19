"""Messages that cannot be handled go to the dead-letter topic with the reason; the consumer goes on."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.clock import SystemClock
from fmc_common.errors import Conflict, TransientError
from fmc_common.events.envelope import Envelope
from fmc_common.events.registry import TeamRegistered
from fmc_common.messaging.consumer import ConsumerRunner, Handler
from fmc_common.messaging.kafka import ensure_topics, make_consumer, make_producer
from fmc_common.settings import KafkaSettings
from support.databases import DatabaseFactory
from support.kafka import produce_raw, read_topic, unique_topic
from support.messaging import TABLES, Store, recording_handler

pytestmark = pytest.mark.broker


def envelope_bytes(data: dict[str, object], event_type: str = TeamRegistered.event_type) -> bytes:
    return Envelope(
        id=str(uuid.uuid4()), source="/test", type=event_type, time=datetime.now(UTC), data=data
    ).to_bytes()


def valid_data() -> dict[str, object]:
    return {
        "team_id": str(uuid.uuid4()),
        "name": "A team",
        "lead_organisation": "Org",
        "registered_at": datetime.now(UTC).isoformat(),
    }


@pytest.fixture
async def store(database_factory: DatabaseFactory) -> AsyncIterator[Store]:
    store = await Store.create(await database_factory.create("dlq"))
    yield store
    await store.close()


@pytest.fixture
async def producer(kafka_settings: KafkaSettings) -> AsyncIterator[AIOKafkaProducer]:
    producer = make_producer(kafka_settings, client_id="test-dlq-producer")
    await producer.start()
    yield producer
    await producer.stop()


async def run_until(runner: ConsumerRunner, done: object, timeout: float = 30.0) -> None:
    assert callable(done)
    await runner._consumer.start()
    task = asyncio.create_task(runner.run())
    try:
        for _ in range(int(timeout * 10)):
            if await done():
                return
            if task.done():
                task.result()
            await asyncio.sleep(0.1)
        raise AssertionError("condition not reached in time")
    finally:
        runner.stop()
        await asyncio.wait_for(task, timeout=15)


async def consume_until_applied(
    good: dict[str, object],
    *,
    store: Store,
    producer: AIOKafkaProducer,
    kafka_settings: KafkaSettings,
    topic: str,
    dlq: str,
    group: str,
    **options: Any,
) -> ConsumerRunner:
    """Run a consumer of ``topic`` (the recording handler, dead letters to ``dlq``, ``options`` for the
    runner) until ``good`` is applied; the runner, stopped."""
    runner = ConsumerRunner(
        name=group,
        consumer=make_consumer(kafka_settings, group, [topic], client_id=group),
        producer=producer,
        dead_letter_topic=dlq,
        handlers={TeamRegistered: recording_handler(group)},
        sessions=store.sessions,
        tables=TABLES,
        clock=SystemClock(),
        **options,
    )

    async def good_applied() -> bool:
        return str(good["team_id"]) in await store.effect_counts(group)

    await run_until(runner, good_applied)
    return runner


async def first_dead_letter(
    handler: Handler,
    *,
    store: Store,
    producer: AIOKafkaProducer,
    kafka_settings: KafkaSettings,
    broker: str,
    topic: str,
    dlq: str,
    group: str,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Run a consumer of ``topic`` with ``handler`` (two quick retries) until it dead-letters."""
    runner = ConsumerRunner(
        name=group,
        consumer=make_consumer(kafka_settings, group, [topic], client_id=group),
        producer=producer,
        dead_letter_topic=dlq,
        handlers={TeamRegistered: handler},
        sessions=store.sessions,
        tables=TABLES,
        clock=SystemClock(),
        max_retries=2,
        retry_backoff=0.01,
    )
    letters: list[ConsumerRecord[bytes, bytes]] = []

    async def dead_lettered() -> bool:
        letters[:] = await read_topic(broker, dlq, expected=1, timeout=0.5)
        return bool(letters)

    await run_until(runner, dead_lettered)
    return letters


class TestDeadLetters:
    async def test_bad_messages_are_dead_lettered_with_reason_and_the_next_message_is_applied(
        self, store: Store, producer: AIOKafkaProducer, kafka_settings: KafkaSettings, broker: str
    ) -> None:
        topic, dlq = unique_topic("in"), unique_topic("dlq")
        await ensure_topics(kafka_settings, [topic, dlq])
        good = valid_data()
        bad_schema = valid_data() | {"name": ""}
        poison = [
            b"this is not json",
            envelope_bytes(valid_data(), event_type="fmc.nobody.never-heard-of-it.v1"),
            envelope_bytes(bad_schema),
        ]
        await produce_raw(broker, topic, [*poison, envelope_bytes(good)])
        group = f"dlq-{uuid.uuid4().hex[:6]}"
        await consume_until_applied(
            good,
            store=store,
            producer=producer,
            kafka_settings=kafka_settings,
            topic=topic,
            dlq=dlq,
            group=group,
        )

        letters = await read_topic(broker, dlq, expected=3)
        assert [r.value for r in letters] == poison  # the original bytes, in order
        headers = [dict(r.headers) for r in letters]
        assert [h["fmc-dlq-reason"] for h in headers] == [
            b"invalid-envelope",
            b"unknown-event-type",
            b"schema-violation",
        ]
        assert all(h["fmc-dlq-consumer"] == group.encode() for h in headers)
        assert all(h["fmc-dlq-source-topic"] == topic.encode() for h in headers)
        assert b"name" in headers[2]["fmc-dlq-error"]
        assert await store.effect_counts(group) == {str(good["team_id"]): 1}
        # The service's own tally (the operators' health view): codes and places, in order.
        assert await store.dead_letter_tally() == [
            (group, topic, "invalid-envelope", dlq),
            (group, topic, "unknown-event-type", dlq),
            (group, topic, "schema-violation", dlq),
        ]

    async def test_a_tally_that_cannot_be_written_stops_neither_the_letter_nor_the_consumer(
        self, store: Store, producer: AIOKafkaProducer, kafka_settings: KafkaSettings, broker: str
    ) -> None:
        """The tally is best effort: the topic is the record (the database may be why it failed)."""
        async with store.engine.begin() as connection:
            await connection.execute(text("DROP TABLE dead_letters"))
        topic, dlq = unique_topic("in"), unique_topic("dlq")
        await ensure_topics(kafka_settings, [topic, dlq])
        good = valid_data()
        await produce_raw(broker, topic, [b"not json", envelope_bytes(good)])
        group = f"tally-{uuid.uuid4().hex[:6]}"
        await consume_until_applied(
            good,
            store=store,
            producer=producer,
            kafka_settings=kafka_settings,
            topic=topic,
            dlq=dlq,
            group=group,
        )
        letters = await read_topic(broker, dlq, expected=1)
        assert [r.value for r in letters] == [b"not json"]

    async def test_transient_failures_are_retried_then_applied(
        self, store: Store, producer: AIOKafkaProducer, kafka_settings: KafkaSettings, broker: str
    ) -> None:
        topic, dlq = unique_topic("in"), unique_topic("dlq")
        await ensure_topics(kafka_settings, [topic, dlq])
        data = valid_data()
        await produce_raw(broker, topic, [envelope_bytes(data)])
        group = f"retry-{uuid.uuid4().hex[:6]}"
        attempts = 0
        inner = recording_handler(group)

        async def flaky(session: AsyncSession, envelope: Envelope, event: TeamRegistered) -> None:
            nonlocal attempts
            attempts += 1
            await inner(session, envelope, event)  # written, then rolled back by the failure
            if attempts < 3:
                raise TransientError("database hiccup")

        handlers: dict[type, Handler] = {TeamRegistered: flaky}
        runner = ConsumerRunner(
            name=group,
            consumer=make_consumer(kafka_settings, group, [topic], client_id=group),
            producer=producer,
            dead_letter_topic=dlq,
            handlers=handlers,
            sessions=store.sessions,
            tables=TABLES,
            clock=SystemClock(),
            max_retries=5,
            retry_backoff=0.01,
        )

        async def applied() -> bool:
            return str(data["team_id"]) in await store.effect_counts(group)

        await run_until(runner, applied)
        assert attempts == 3
        assert await store.effect_counts(group) == {str(data["team_id"]): 1}
        assert await read_topic(broker, dlq, expected=0, timeout=1) == []

    async def test_retries_exhausted_are_dead_lettered_with_the_last_error(
        self, store: Store, producer: AIOKafkaProducer, kafka_settings: KafkaSettings, broker: str
    ) -> None:
        topic, dlq = unique_topic("in"), unique_topic("dlq")
        await ensure_topics(kafka_settings, [topic, dlq])
        raw = envelope_bytes(valid_data())
        await produce_raw(broker, topic, [raw])
        group = f"exhaust-{uuid.uuid4().hex[:6]}"

        async def always_down(session: AsyncSession, envelope: Envelope, event: TeamRegistered) -> None:
            raise TransientError("still down")

        letters = await first_dead_letter(
            always_down,
            store=store,
            producer=producer,
            kafka_settings=kafka_settings,
            broker=broker,
            topic=topic,
            dlq=dlq,
            group=group,
        )
        record = letters[0]
        headers = dict(record.headers)
        assert record.value == raw
        assert headers["fmc-dlq-reason"] == b"retries-exhausted"
        assert b"still down" in headers["fmc-dlq-error"]

    async def test_a_rule_that_refuses_the_event_is_a_rejection_naming_the_rule(
        self, store: Store, producer: AIOKafkaProducer, kafka_settings: KafkaSettings, broker: str
    ) -> None:
        """A service's own refusal (say, a status step its table does not allow) is not a crash."""
        topic, dlq = unique_topic("in"), unique_topic("dlq")
        await ensure_topics(kafka_settings, [topic, dlq])
        raw = envelope_bytes(valid_data())
        await produce_raw(broker, topic, [raw])
        group = f"refuse-{uuid.uuid4().hex[:6]}"

        class IllegalStep(Conflict):
            code = "illegal-status-transition"

        async def refuse(session: AsyncSession, envelope: Envelope, event: TeamRegistered) -> None:
            raise IllegalStep("withdrawn -> advanced is not allowed")

        letters = await first_dead_letter(
            refuse,
            store=store,
            producer=producer,
            kafka_settings=kafka_settings,
            broker=broker,
            topic=topic,
            dlq=dlq,
            group=group,
        )
        headers = dict(letters[0].headers)
        assert letters[0].value == raw
        assert headers["fmc-dlq-reason"] == b"handler-rejected"
        assert headers["fmc-dlq-error"] == b"illegal-status-transition: withdrawn -> advanced is not allowed"


class TestOversizeMessages:
    """One record too large to copy whole must not stop its topic (it used to end the consumer task)."""

    async def run_over(
        self,
        values: list[bytes],
        *,
        store: Store,
        producer: AIOKafkaProducer,
        kafka_settings: KafkaSettings,
        broker: str,
    ) -> tuple[str, str, dict[str, object], ConsumerRunner]:
        topic, dlq = unique_topic("in"), unique_topic("dlq")
        await ensure_topics(kafka_settings, [topic, dlq])
        good = valid_data()
        await produce_raw(broker, topic, [*values, envelope_bytes(good)], max_request_size=4 * 1024 * 1024)
        group = f"big-{uuid.uuid4().hex[:6]}"
        runner = await consume_until_applied(
            good,
            store=store,
            producer=producer,
            kafka_settings=kafka_settings,
            topic=topic,
            dlq=dlq,
            group=group,
            max_message_bytes=kafka_settings.max_message_bytes,
        )
        return topic, dlq, good, runner

    async def test_a_record_over_the_limit_is_dead_lettered_as_a_reference_and_the_next_is_applied(
        self, store: Store, producer: AIOKafkaProducer, kafka_settings: KafkaSettings, broker: str
    ) -> None:
        huge = b"x" * (kafka_settings.max_message_bytes + 100_000)
        topic, dlq, good, _ = await self.run_over(
            [huge], store=store, producer=producer, kafka_settings=kafka_settings, broker=broker
        )
        letters = await read_topic(broker, dlq, expected=1)
        assert len(letters) == 1
        headers = dict(letters[0].headers)
        assert headers["fmc-dlq-reason"] == b"too-large"
        assert headers["fmc-dlq-reference"] == b"true"
        reference = json.loads(letters[0].value or b"")
        assert reference["topic"] == topic
        assert reference["offset"] == 0
        assert reference["size"] == len(huge)
        assert reference["sha256"] == hashlib.sha256(huge).hexdigest()
        assert await store.effect_counts(group_of(letters[0])) == {str(good["team_id"]): 1}

    async def test_a_record_under_the_limit_whose_copy_would_exceed_it_goes_as_a_reference(
        self, store: Store, producer: AIOKafkaProducer, kafka_settings: KafkaSettings, broker: str
    ) -> None:
        # Fits the broker, not an envelope: the copy plus the dead-letter headers would not fit.
        almost = b"{" + b"y" * (kafka_settings.max_message_bytes - 2048)
        _, dlq, good, _ = await self.run_over(
            [almost], store=store, producer=producer, kafka_settings=kafka_settings, broker=broker
        )
        letters = await read_topic(broker, dlq, expected=1)
        headers = dict(letters[0].headers)
        assert headers["fmc-dlq-reason"] == b"invalid-envelope"
        assert headers["fmc-dlq-reference"] == b"true"
        assert json.loads(letters[0].value or b"")["sha256"] == hashlib.sha256(almost).hexdigest()
        assert await store.effect_counts(group_of(letters[0])) == {str(good["team_id"]): 1}

    async def test_a_small_bad_record_is_still_copied_whole(
        self, store: Store, producer: AIOKafkaProducer, kafka_settings: KafkaSettings, broker: str
    ) -> None:
        _, dlq, _, _ = await self.run_over(
            [b"not json"], store=store, producer=producer, kafka_settings=kafka_settings, broker=broker
        )
        letters = await read_topic(broker, dlq, expected=1)
        assert letters[0].value == b"not json"
        assert "fmc-dlq-reference" not in dict(letters[0].headers)


def group_of(letter: ConsumerRecord[bytes, bytes]) -> str:
    consumer: bytes = dict(letter.headers)["fmc-dlq-consumer"]
    return consumer.decode()
