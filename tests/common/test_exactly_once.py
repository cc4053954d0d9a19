"""Effectively once through the outbox, the broker and the inbox, despite crashes at the worst moments."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.clock import SystemClock
from fmc_common.events.envelope import Envelope
from fmc_common.events.registry import TeamRegistered
from fmc_common.events.topics import Topic
from fmc_common.messaging.consumer import ConsumerRunner
from fmc_common.messaging.kafka import ensure_topics, make_consumer, make_producer
from fmc_common.messaging.relay import OutboxRelay
from fmc_common.settings import KafkaSettings
from support.databases import DatabaseFactory
from support.kafka import read_topic, unique_topic
from support.messaging import TABLES, Store, recording_handler

pytestmark = pytest.mark.broker


class RelayCrashed(Exception):
    pass


class ConsumerCrashed(Exception):
    pass


class RelayDyingAfterAck(OutboxRelay):
    """The broker acknowledged the batch; the process dies before the rows are marked sent."""

    async def _mark_sent(self, session: AsyncSession, seqs: list[int]) -> None:
        raise RelayCrashed(f"died with {len(seqs)} acknowledged rows unmarked")


class ConsumerDyingBeforeOffsetCommit(ConsumerRunner):
    """The effect's transaction committed; the process dies before the offset commit."""

    async def _commit_offsets(self, offsets: dict[TopicPartition, int]) -> None:
        raise ConsumerCrashed("died before committing offsets")


@pytest.fixture
async def store(database_factory: DatabaseFactory) -> AsyncIterator[Store]:
    store = await Store.create(await database_factory.create("messaging"))
    yield store
    await store.close()


@pytest.fixture
async def producer(kafka_settings: KafkaSettings) -> AsyncIterator[AIOKafkaProducer]:
    await ensure_topics(kafka_settings, [str(t) for t in Topic])
    producer = make_producer(kafka_settings, client_id="test-producer")
    await producer.start()
    yield producer
    await producer.stop()


def relay(store: Store, producer: AIOKafkaProducer, cls: type[OutboxRelay] = OutboxRelay) -> OutboxRelay:
    return cls(sessions=store.sessions, tables=TABLES, producer=producer, clock=SystemClock(), batch_size=100)


def runner(
    store: Store,
    producer: AIOKafkaProducer,
    kafka_settings: KafkaSettings,
    group: str,
    cls: type[ConsumerRunner] = ConsumerRunner,
) -> ConsumerRunner:
    return cls(
        name=group,
        consumer=make_consumer(kafka_settings, group, [str(Topic.REGISTRY)], client_id=group),
        producer=producer,
        dead_letter_topic=unique_topic("dlq"),
        handlers={TeamRegistered: recording_handler(group)},
        sessions=store.sessions,
        tables=TABLES,
        clock=SystemClock(),
    )


async def drain(consumer_runner: ConsumerRunner, store: Store, group: str, team_ids: set[str]) -> None:
    """Run the consumer until every expected team has an effect, then stop it gracefully."""
    await consumer_runner._consumer.start()
    task = asyncio.create_task(consumer_runner.run())
    try:
        for _ in range(300):
            if team_ids <= set(await store.effect_counts(group)):
                break
            if task.done():
                task.result()
            await asyncio.sleep(0.1)
    finally:
        consumer_runner.stop()
        await asyncio.wait_for(task, timeout=15)


class TestRelay:
    async def test_publishes_in_order_and_marks_sent_only_after_ack(
        self, store: Store, producer: AIOKafkaProducer, broker: str
    ) -> None:
        events = await store.stage_events(5)
        assert await store.unsent() == 5

        result = await relay(store, producer).run_once()

        assert result.published == 5
        assert await store.unsent() == 0
        wanted = {str(e.team_id) for e in events}
        records = await read_topic(broker, str(Topic.REGISTRY), expected=1, timeout=5)
        ours = [r for r in records if Envelope.from_bytes(r.value or b"").data["team_id"] in wanted]
        assert {Envelope.from_bytes(r.value or b"").data["team_id"] for r in ours} == wanted
        assert all(r.key == Envelope.from_bytes(r.value or b"").data["team_id"].encode() for r in ours)

    async def test_rows_stay_unsent_when_the_broker_is_unreachable(self, store: Store) -> None:
        await store.stage_events(2)
        dead = make_producer(KafkaSettings(bootstrap_servers="127.0.0.1:9", request_timeout_ms=1000), "dead")
        with pytest.raises(Exception):  # noqa: PT011 - any connection error will do
            await dead.start()
        assert await store.unsent() == 2


class TestExactlyOnce:
    async def test_relay_dying_after_ack_before_marking_sent_is_applied_once_per_group(
        self, store: Store, producer: AIOKafkaProducer, kafka_settings: KafkaSettings
    ) -> None:
        events = await store.stage_events(4)
        team_ids = {str(e.team_id) for e in events}

        with pytest.raises(RelayCrashed):
            await relay(store, producer, RelayDyingAfterAck).run_once()
        assert await store.unsent() == 4  # acknowledged by the broker, but not marked

        restarted = await relay(store, producer).run_once()  # the restarted relay sends them again
        assert restarted.published == 4
        assert await store.unsent() == 0

        for group in (f"svc-a-{uuid.uuid4().hex[:6]}", f"svc-b-{uuid.uuid4().hex[:6]}"):
            consumer_runner = runner(store, producer, kafka_settings, group)
            await drain(consumer_runner, store, group, team_ids)
            counts = await store.effect_counts(group)
            assert {t: counts[t] for t in team_ids} == dict.fromkeys(team_ids, 1)

    async def test_consumer_dying_after_commit_before_offset_commit_applies_once(
        self, store: Store, producer: AIOKafkaProducer, kafka_settings: KafkaSettings
    ) -> None:
        events = await store.stage_events(3)
        team_ids = {str(e.team_id) for e in events}
        await relay(store, producer).run_once()
        group = f"svc-c-{uuid.uuid4().hex[:6]}"

        dying = runner(store, producer, kafka_settings, group, ConsumerDyingBeforeOffsetCommit)
        await dying._consumer.start()
        with pytest.raises(ConsumerCrashed):
            await asyncio.wait_for(dying.run(), timeout=60)
        applied_before_crash = await store.effect_counts(group)
        assert sum(applied_before_crash.values()) == 1  # one effect committed, its offset not

        survivor = runner(store, producer, kafka_settings, group)
        await drain(survivor, store, group, team_ids)

        counts = await store.effect_counts(group)
        assert all(n == 1 for n in counts.values()), counts  # the redelivered message changed nothing
        assert team_ids <= set(counts)
