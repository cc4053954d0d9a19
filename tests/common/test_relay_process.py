"""The relay as a process of its own publishes a service's outbox and stops cleanly on SIGTERM; on
PostgreSQL, the relays of several replicas (one sidecar per pod) share a database without sending
an event twice."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from fmc_common.events.envelope import Envelope
from fmc_common.events.topics import Topic
from fmc_common.messaging.kafka import ensure_topics
from fmc_common.settings import KafkaSettings
from fmc_devrunner.process import ManagedProcess
from support.databases import DatabaseFactory
from support.kafka import read_topic
from support.messaging import Store

pytestmark = pytest.mark.broker


def relay_process(url: str, broker: str, log: Path) -> ManagedProcess:
    return ManagedProcess(
        log.stem,
        [sys.executable, "-m", "fmc_common.messaging.relay_main", "--database-url", url],
        log,
        dict(os.environ, FMC_KAFKA_BOOTSTRAP_SERVERS=broker),
    )


async def team_ids_on(broker: str, topic: str) -> list[str]:
    """The team id of every record in the topic, from the first to the current end, repeats kept."""
    consumer = AIOKafkaConsumer(bootstrap_servers=broker, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()  # loads the cluster's metadata
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        assert partitions, f"no partitions for {topic}"
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        seen: list[str] = []
        for _ in range(200):
            positions = [await consumer.position(tp) for tp in partitions]
            if all(position >= ends[tp] for position, tp in zip(positions, partitions, strict=True)):
                return seen
            for records in (await consumer.getmany(*partitions, timeout_ms=500)).values():
                seen += [Envelope.from_bytes(r.value or b"").data["team_id"] for r in records]
        raise AssertionError(f"{topic} was not read to its end")
    finally:
        await consumer.stop()


@pytest.fixture
async def store(database_factory: DatabaseFactory) -> AsyncIterator[Store]:
    store = await Store.create(await database_factory.create("relay"))
    yield store
    await store.close()


class TestRelayProcess:
    async def test_publishes_every_staged_event_then_exits_zero_on_sigterm(
        self, store: Store, kafka_settings: KafkaSettings, broker: str, tmp_path: Path
    ) -> None:
        await ensure_topics(kafka_settings, [str(Topic.REGISTRY)])
        events = await store.stage_events(25)
        url = store.engine.url.render_as_string(hide_password=False)
        process = relay_process(url, broker, tmp_path / "relay.log")
        process.start()
        try:
            for _ in range(300):
                process.check_alive()
                if await store.unsent() == 0:
                    break
                await asyncio.sleep(0.1)
        finally:
            code = process.stop()
        assert await store.unsent() == 0
        assert code == 0, process.log_tail()
        wanted = {str(e.team_id) for e in events}
        records = await read_topic(broker, str(Topic.REGISTRY), expected=1, timeout=5)
        seen = {Envelope.from_bytes(r.value or b"").data["team_id"] for r in records}
        assert wanted <= seen

    @pytest.mark.parametrize("database_factory", ["postgres"], indirect=True)
    async def test_the_relays_of_two_replicas_on_one_postgresql_database_send_each_event_once(
        self, store: Store, kafka_settings: KafkaSettings, broker: str, tmp_path: Path
    ) -> None:
        """One relay sidecar per pod: on PostgreSQL they take turns under one advisory lock."""
        await ensure_topics(kafka_settings, [str(Topic.REGISTRY)])
        url = store.engine.url.render_as_string(hide_password=False)
        relays = [relay_process(url, broker, tmp_path / f"relay-{i}.log") for i in (1, 2)]
        for relay in relays:
            relay.start()
        try:
            await asyncio.sleep(1.0)  # both connected and polling before the rows arrive
            events = []
            for _ in range(20):
                events += await store.stage_events(25)
                await asyncio.sleep(0.02)
            for _ in range(300):
                for relay in relays:
                    relay.check_alive()
                if await store.unsent() == 0:
                    break
                await asyncio.sleep(0.1)
        finally:
            codes = [relay.stop() for relay in relays]
        assert await store.unsent() == 0
        assert codes == [0, 0], [relay.log_tail() for relay in relays]
        wanted = {str(e.team_id) for e in events}
        sent = [team for team in await team_ids_on(broker, str(Topic.REGISTRY)) if team in wanted]
        assert len(sent) == len(wanted) == 500
        assert set(sent) == wanted
