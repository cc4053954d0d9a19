"""A broker outage keeps the APIs in their Service and loses nothing: writes wait in the outbox.

A dedicated Tansu broker (not the session's) is stopped under a running registry. That the relay
publishes what waited once the broker is back is shown in test_exactly_once.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from fmc_common import db
from fmc_common.auth import Role
from fmc_common.dev_auth import DevKeys
from fmc_common.settings import KafkaSettings
from fmc_devrunner.broker import BrokerProcess
from fmc_devrunner.ports import free_port
from fmc_registry.main import create_app
from fmc_registry.settings import RegistrySettings
from support.services import bearer, serving

pytestmark = pytest.mark.broker


@pytest.fixture
async def own_broker(tmp_path: Path) -> AsyncIterator[BrokerProcess]:
    process = BrokerProcess(free_port(), tmp_path / "tansu.log")
    process.start()
    try:
        await process.wait_ready()
        yield process
    finally:
        process.stop()


async def unsent_events(url: str) -> list[str]:
    engine = db.create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT key FROM outbox WHERE sent_at IS NULL"))
            return [str(row[0]) for row in rows]
    finally:
        await engine.dispose()


async def _ready(client: httpx.AsyncClient) -> httpx.Response:
    return await client.get("/readyz")


class TestBrokerOutage:
    async def test_readiness_stays_green_and_a_write_made_meanwhile_waits_in_the_outbox(
        self, own_broker: BrokerProcess, tmp_path: Path
    ) -> None:
        auth = DevKeys.generate(["tests"]).settings()
        kafka = KafkaSettings(bootstrap_servers=own_broker.bootstrap, topic_partitions=1)
        settings = RegistrySettings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}",
            kafka=kafka,
            auth=auth,
            grpc_port=free_port(),
            relay_poll_interval_seconds=0.05,
        )
        app = create_app(settings)
        async with serving(app) as client:
            assert (await _ready(client)).status_code == 200
            own_broker.stop()
            await asyncio.sleep(3)

            during = await _ready(client)
            assert during.status_code == 200, during.text
            assert during.json()["checks"] == {"database": True, "consumers": True}
            created = await client.post(
                "/v1/teams",
                json={"name": "Written while the broker is down", "lead_organisation": "Upstage"},
                headers=bearer(auth, Role.OPERATOR),
            )
            assert created.status_code == 201, created.text
            team_id = created.json()["id"]

            await asyncio.sleep(1)
            assert (await _ready(client)).status_code == 200
        # Stopped during the outage; the event waits in the service's outbox for the broker's return.
        assert await unsent_events(settings.database_url) == [team_id]
