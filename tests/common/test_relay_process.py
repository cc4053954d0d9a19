"""The relay as a process of its own publishes a service's outbox and stops cleanly on SIGTERM; on
PostgreSQL, the relays of several replicas (one sidecar per pod) share a database without sending
an event twice. Its endpoints tell a kubelet and Prometheus how it is doing; it waits for a broker
that is not up yet, and refuses to start without a database URL or on a port it cannot bind."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from fmc_common.events.envelope import Envelope
from fmc_common.events.topics import Topic
from fmc_common.messaging.kafka import ensure_topics
from fmc_common.settings import KafkaSettings
from fmc_devrunner.ports import free_port
from fmc_devrunner.process import ManagedProcess
from support.databases import DatabaseFactory
from support.kafka import read_topic
from support.messaging import Store

pytestmark = pytest.mark.broker


RELAY = [sys.executable, "-m", "fmc_common.messaging.relay_main"]


def relay_process(url: str, broker: str, log: Path, port: int | None = None) -> ManagedProcess:
    """A relay given its database in FMC_RELAY_DATABASE_URL, as the sidecars are."""
    return ManagedProcess(
        log.stem,
        [
            *RELAY,
            "--name",
            "registry-relay",
            "--http-host",
            "127.0.0.1",
            "--http-port",
            str(port or free_port()),
        ],
        log,
        dict(os.environ, FMC_KAFKA_BOOTSTRAP_SERVERS=broker, FMC_RELAY_DATABASE_URL=url),
    )


def get(port: int, path: str) -> tuple[int, bytes]:
    """Status and body of a GET to the relay's endpoints (0 while nothing listens)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, ConnectionError):
        return 0, b""


async def answered(port: int, path: str, process: ManagedProcess) -> tuple[int, bytes]:
    """The first answer of the endpoint, once the process listens."""
    for _ in range(100):
        process.check_alive()
        status, body = await asyncio.to_thread(get, port, path)
        if status:
            return status, body
        await asyncio.sleep(0.1)
    raise AssertionError(f"nothing answered on {path}: {process.log_tail()}")


def metric(text: str, name: str) -> float:
    values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(name)]
    assert len(values) == 1, f"{name} in {text}"
    return values[0]


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
        port = free_port()
        process = relay_process(url, broker, tmp_path / "relay.log", port)
        process.start()
        try:
            for _ in range(300):
                process.check_alive()
                if await store.unsent() == 0:
                    break
                await asyncio.sleep(0.1)
            assert await store.unsent() == 0
            assert (await answered(port, "/healthz", process))[0] == 200
            status, body = await answered(port, "/readyz", process)
            assert status == 200, body
            assert json.loads(body)["status"] == "ok"
            status, body = await answered(port, "/metrics", process)
            text = body.decode()
            assert metric(text, "fmc_outbox_published_total") == 25
            assert metric(text, "fmc_outbox_pending") == 0
            assert 'fmc_service_info{service="registry-relay"} 1.0' in text
        finally:
            code = process.stop()
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

    async def test_waits_for_a_broker_that_is_not_up_and_stops_on_sigterm_meanwhile(
        self, store: Store, tmp_path: Path
    ) -> None:
        """A sidecar may start before Kafka: it waits (not live yet) instead of exiting, and a
        SIGTERM in the meantime ends it cleanly, leaving the staged rows for later."""
        await store.stage_events(3)
        url = store.engine.url.render_as_string(hide_password=False)
        nobody = f"127.0.0.1:{free_port()}"
        port = free_port()
        process = relay_process(url, nobody, tmp_path / "relay.log", port)
        process.start()
        try:
            status, body = await answered(port, "/healthz", process)
            assert status == 503
            assert json.loads(body)["status"] == "starting"
            assert (await answered(port, "/readyz", process))[0] == 503
            await asyncio.sleep(2.0)  # several connection attempts
            process.check_alive()
        finally:
            code = process.stop()
        assert code == 0, process.log_tail()
        assert "broker not reachable yet" in process.log_tail(200)
        assert await store.unsent() == 3


class TestRelayProcessRefuses:
    def test_to_start_without_a_database_url(self) -> None:
        env = {k: v for k, v in os.environ.items() if k != "FMC_RELAY_DATABASE_URL"}
        result = subprocess.run(RELAY, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2
        assert "FMC_RELAY_DATABASE_URL" in result.stderr

    def test_to_run_on_a_port_it_cannot_bind(self, tmp_path: Path) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            nobody = f"127.0.0.1:{free_port()}"
            env = dict(os.environ, FMC_KAFKA_BOOTSTRAP_SERVERS=nobody)
            result = subprocess.run(
                [
                    *RELAY,
                    "--database-url",
                    f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}",
                    "--http-host",
                    "127.0.0.1",
                    "--http-port",
                    str(port),
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
        assert result.returncode != 0
        assert f"could not listen on 127.0.0.1:{port}" in result.stderr
