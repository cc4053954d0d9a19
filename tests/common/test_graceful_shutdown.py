"""Stopping a consumer finishes the message in hand, commits its effect and its offset, then closes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.clock import SystemClock
from fmc_common.events.envelope import Envelope
from fmc_common.events.registry import TeamRegistered
from fmc_common.messaging.consumer import ConsumerRunner, Handler
from fmc_common.messaging.kafka import ensure_topics, make_consumer, make_producer
from fmc_common.settings import KafkaSettings
from support.databases import DatabaseFactory
from support.kafka import produce_raw, unique_topic
from support.messaging import TABLES, Store, recording_handler

pytestmark = pytest.mark.broker


@pytest.fixture
async def store(database_factory: DatabaseFactory) -> AsyncIterator[Store]:
    store = await Store.create(await database_factory.create("shutdown"))
    yield store
    await store.close()


def envelope(team_id: uuid.UUID) -> bytes:
    data = {
        "team_id": str(team_id),
        "name": "T",
        "lead_organisation": "O",
        "registered_at": datetime.now(UTC),
    }
    event = TeamRegistered.model_validate(data)
    return Envelope(
        id=str(uuid.uuid4()),
        source="/test",
        type=TeamRegistered.event_type,
        time=datetime.now(UTC),
        data=event.model_dump(mode="json"),
    ).to_bytes()


async def committed_offset(bootstrap: str, group: str, topic: str) -> int | None:
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await reader.start()
    try:
        offset: int | None = await reader.committed(TopicPartition(topic, 0))
        return offset
    finally:
        await reader.stop()


class TestGracefulShutdown:
    async def test_stop_during_a_message_finishes_it_and_commits_before_closing(
        self, store: Store, kafka_settings: KafkaSettings, broker: str
    ) -> None:
        topic, dlq = unique_topic("in"), unique_topic("dlq")
        single = kafka_settings.model_copy(update={"topic_partitions": 1})
        await ensure_topics(single, [topic, dlq])
        first, second = uuid.uuid4(), uuid.uuid4()
        await produce_raw(broker, topic, [envelope(first), envelope(second)])
        group = f"stop-{uuid.uuid4().hex[:6]}"
        in_handler, release = asyncio.Event(), asyncio.Event()
        record = recording_handler(group)

        async def slow(session: AsyncSession, env: Envelope, event: TeamRegistered) -> None:
            await record(session, env, event)
            in_handler.set()
            await release.wait()

        handlers: dict[type, Handler] = {TeamRegistered: slow}
        producer: AIOKafkaProducer = make_producer(kafka_settings, "stop-test")
        await producer.start()
        runner = ConsumerRunner(
            name=group,
            consumer=make_consumer(kafka_settings, group, [topic], client_id=group),
            producer=producer,
            dead_letter_topic=dlq,
            handlers=handlers,
            sessions=store.sessions,
            tables=TABLES,
            clock=SystemClock(),
        )
        try:
            await runner._consumer.start()
            task = asyncio.create_task(runner.run())
            await asyncio.wait_for(in_handler.wait(), timeout=30)
            runner.stop()  # SIGTERM arrives while the first message is being handled
            release.set()
            await asyncio.wait_for(task, timeout=15)
        finally:
            await producer.stop()

        assert await store.effect_counts(group) == {str(first): 1}  # finished, and nothing more taken
        assert await committed_offset(broker, group, topic) == 1  # its offset committed before closing
