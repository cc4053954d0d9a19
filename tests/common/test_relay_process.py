"""The relay as a process of its own publishes a service's outbox and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fmc_common.events.envelope import Envelope
from fmc_common.events.topics import Topic
from fmc_common.messaging.kafka import ensure_topics
from fmc_common.settings import KafkaSettings
from fmc_devrunner.process import ManagedProcess
from support.databases import DatabaseFactory
from support.kafka import read_topic
from support.messaging import Store

pytestmark = pytest.mark.broker


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
        process = ManagedProcess(
            "relay",
            [sys.executable, "-m", "fmc_common.messaging.relay_main", "--database-url", url],
            tmp_path / "relay.log",
            dict(os.environ, FMC_KAFKA_BOOTSTRAP_SERVERS=broker),
        )
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
