"""A consumer task that ends on its own is logged, counted and restarted; readiness shows it down."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fmc_common.events.registry import TeamRegistered
from fmc_common.events.topics import Topic
from fmc_common.messaging.kafka import ensure_topics, make_producer
from fmc_common.runtime import ConsumerSpec, ServiceRuntime
from fmc_common.settings import AuthSettings, KafkaSettings, ServiceSettings, WithInfrastructure
from support.databases import DatabaseFactory
from support.kafka import produce_raw, read_topic, unique_topic
from support.messaging import TABLES, Store, recording_handler

from .test_dead_letters import envelope_bytes, valid_data

pytestmark = pytest.mark.broker


class ExampleSettings(ServiceSettings, WithInfrastructure):
    pass


@pytest.fixture
async def runtime(
    database_factory: DatabaseFactory, kafka_settings: KafkaSettings
) -> AsyncIterator[tuple[ServiceRuntime, str, str]]:
    url = await database_factory.create("supervised")
    store = await Store.create(url)  # creates the platform tables and the effects table
    await store.close()
    topic = unique_topic("supervised")
    await ensure_topics(kafka_settings, [topic, str(Topic.REGISTRY_DLQ)])
    settings = ExampleSettings(
        service_name="registry",  # any service with a dead-letter topic
        database_url=url,
        migrate_on_start=False,
        kafka=kafka_settings,
        auth=AuthSettings(jwks='{"keys": []}'),
        relay_in_process=False,
    )
    group = f"supervised-{uuid.uuid4().hex[:6]}"
    built = ServiceRuntime(
        settings=settings,
        tables=TABLES,
        migrations_path=Path(),
        consumers=[
            ConsumerSpec(name=group, topics=[topic], handlers={TeamRegistered: recording_handler(group)})
        ],
    )
    await built.start()
    try:
        yield built, topic, group
    finally:
        await built.stop()


async def _until(condition: object, timeout: float = 60.0) -> None:
    assert callable(condition)
    for _ in range(int(timeout * 10)):
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached in time")


class TestSupervision:
    async def test_a_consumer_that_dies_is_reported_down_restarted_and_handles_its_message_again(
        self, runtime: tuple[ServiceRuntime, str, str], kafka_settings: KafkaSettings, broker: str
    ) -> None:
        built, topic, group = runtime
        assert await built.readiness() == {"database": True, "consumers": True}
        # The dead-letter write fails (its producer is gone): the consumer task ends mid-message.
        await built.producer.stop()
        await produce_raw(broker, topic, [b"not an envelope"])

        async def down() -> bool:
            return (await built.readiness())["consumers"] is False

        await _until(down)
        restarts = built.metrics.consumer_restarts.labels(consumer=group)._value.get()
        assert restarts >= 1

        built.producer = make_producer(kafka_settings, client_id="replacement")
        await built.producer.start()

        async def up() -> bool:
            return (await built.readiness())["consumers"] is True

        await _until(up)
        ours: list[bytes | None] = []

        async def dead_lettered() -> bool:
            letters = await read_topic(broker, str(Topic.REGISTRY_DLQ), expected=1, timeout=1)
            ours[:] = [r.value for r in letters if dict(r.headers)["fmc-dlq-consumer"] == group.encode()]
            return bool(ours)

        await _until(dead_lettered)
        assert ours == [b"not an envelope"]
        # And it goes on: a valid event after it is applied.
        data = valid_data()
        await produce_raw(broker, topic, [envelope_bytes(data)])
        store = Store(engine=built.engine, sessions=built.sessions)

        async def applied() -> bool:
            return str(data["team_id"]) in await store.effect_counts(group)

        await _until(applied)
