"""Outages are waited out, not turned into dead letters (a database failover, a broker election)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.engine import make_url

from fmc_common.clock import SystemClock
from fmc_common.events.registry import TeamRegistered
from fmc_common.messaging.consumer import ConsumerRunner, RetryPolicy
from fmc_common.messaging.kafka import ensure_topics, make_consumer, make_producer
from fmc_common.settings import KafkaSettings, ServiceSettings
from support.databases import DatabaseFactory, postgres_available
from support.kafka import produce_raw, read_topic, unique_topic
from support.messaging import TABLES, Store, recording_handler
from support.proxy import TcpProxy

from .test_dead_letters import envelope_bytes, valid_data


class TestRetryPolicy:
    def test_the_default_budget_outlasts_a_failover(self) -> None:
        assert ServiceSettings.model_fields["consumer_retry_budget_seconds"].default >= 120

    def test_delays_double_up_to_the_cap(self) -> None:
        policy = RetryPolicy(backoff=1.0, backoff_max=8.0, budget=100.0)
        for attempt, base in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0), (200, 8.0)]:
            assert 0.5 * base <= policy.delay(attempt) <= 1.5 * base

    def test_exhausted_when_the_next_wait_would_pass_the_budget(self) -> None:
        policy = RetryPolicy(backoff=1.0, backoff_max=8.0, budget=10.0)
        assert not policy.exhausted(attempt=3, elapsed=5.0, next_delay=4.0)
        assert policy.exhausted(attempt=3, elapsed=7.0, next_delay=4.0)

    def test_an_attempt_cap_applies_besides_the_budget(self) -> None:
        policy = RetryPolicy(budget=1000.0, max_attempts=2)
        assert not policy.exhausted(attempt=2, elapsed=0.0, next_delay=0.1)
        assert policy.exhausted(attempt=3, elapsed=0.0, next_delay=0.1)


@pytest.fixture
async def postgres(tmp_path: Path) -> AsyncIterator[DatabaseFactory]:
    if not await postgres_available():
        if os.environ.get("FMC_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is not reachable")
        pytest.skip("PostgreSQL is not reachable")
    factory = DatabaseFactory("postgres", tmp_path)
    try:
        yield factory
    finally:
        await factory.drop_all()


@pytest.fixture
async def producer(kafka_settings: KafkaSettings) -> AsyncIterator[AIOKafkaProducer]:
    producer = make_producer(kafka_settings, client_id="test-outage-producer")
    await producer.start()
    yield producer
    await producer.stop()


@pytest.mark.broker
@pytest.mark.postgres
class TestDatabaseOutage:
    async def test_an_event_arriving_during_a_postgres_outage_is_applied_after_it_not_dead_lettered(
        self,
        postgres: DatabaseFactory,
        producer: AIOKafkaProducer,
        kafka_settings: KafkaSettings,
        broker: str,
    ) -> None:
        url = make_url(await postgres.create("outage"))
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
        await proxy.start()
        store = await Store.create(url.set(host="127.0.0.1", port=proxy.port).render_as_string(False))
        topic, dlq = unique_topic("in"), unique_topic("dlq")
        await ensure_topics(kafka_settings, [topic, dlq])
        group = f"outage-{uuid.uuid4().hex[:6]}"
        runner = ConsumerRunner(
            name=group,
            consumer=make_consumer(kafka_settings, group, [topic], client_id=group),
            producer=producer,
            dead_letter_topic=dlq,
            handlers={TeamRegistered: recording_handler(group)},
            sessions=store.sessions,
            tables=TABLES,
            clock=SystemClock(),
            retry_backoff=0.2,
            retry_backoff_max=1.0,
            retry_budget=120.0,
        )
        await runner._consumer.start()
        task = asyncio.create_task(runner.run())
        try:
            await proxy.cut()
            data = valid_data()
            await produce_raw(broker, topic, [envelope_bytes(data)])
            # Longer than the five quick retries (about 6 s) that used to dead-letter the event.
            await asyncio.sleep(10)
            assert not task.done()
            await proxy.restore()
            for _ in range(300):
                if str(data["team_id"]) in await store.effect_counts(group):
                    break
                await asyncio.sleep(0.1)
            assert await store.effect_counts(group) == {str(data["team_id"]): 1}
            assert await read_topic(broker, dlq, expected=0, timeout=1) == []
        finally:
            runner.stop()
            await asyncio.wait_for(task, timeout=30)
            await store.close()
            await proxy.stop()
