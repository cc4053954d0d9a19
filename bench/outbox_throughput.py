"""Events per second through the outbox and its relay to the broker, against a bare aiokafka producer.

Every side runs against the same Tansu broker and publishes the same kind of events: each
serialised into its CloudEvents envelope, keyed by its partition key, with the same headers,
acks=all, waiting for every acknowledgement. The outbox sides include writing the events in
application transactions (``--per-transaction`` events each) and the relay publishing and marking
them sent. Two layouts of the outbox are measured:

* the production layout (``ratio``): the writers in this process, the relay in a process of its own
  (``python -m fmc_common.messaging.relay_main``), as the relay sidecar beside every service on
  Kubernetes and docker compose, whose services run with ``FMC_<SVC>_RELAY_IN_PROCESS=false``
  (docs/decisions/2026-11-22-outbox-relay-as-sidecar.md). Writing and relaying then use two cores;
* the in-process layout (``ratio_relay_in_process``): the relay in the writers' process and event
  loop, as in the embedded dev stack (tools/devrunner) and the tests, where writing and relaying
  share one core.

Prints the figures of each round and their medians; the last line is JSON with ``ratio``.

    .venv/bin/python bench/outbox_throughput.py [--events 20000] [--rounds 3] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

from fmc_common import db
from fmc_common.clock import SystemClock
from fmc_common.events.envelope import CONTENT_TYPE, encode_envelope
from fmc_common.events.registry import TeamRegistered
from fmc_common.messaging.kafka import ensure_topics, make_producer
from fmc_common.messaging.outbox import Outbox
from fmc_common.messaging.relay import OutboxRelay
from fmc_common.messaging.tables import platform_tables
from fmc_common.settings import KafkaSettings
from fmc_devrunner.broker import BrokerProcess
from fmc_devrunner.ports import free_port
from fmc_devrunner.process import ManagedProcess

METADATA = db.new_metadata()
TABLES = platform_tables(METADATA)


def events(count: int) -> list[TeamRegistered]:
    now = datetime.now(UTC)
    return [
        TeamRegistered(team_id=uuid.uuid4(), name=f"team {i}", lead_organisation="Org", registered_at=now)
        for i in range(count)
    ]


async def bare_producer(settings: KafkaSettings, topic: str, count: int) -> float:
    """The same events, envelopes and keys, sent straight to the broker (no durability before send)."""
    producer = make_producer(settings, "bench-bare")
    await producer.start()
    batch = events(count)
    try:
        started = time.perf_counter()
        now = datetime.now(UTC)
        futures = []
        for event in batch:
            event_id = str(uuid.uuid4())
            value = encode_envelope(
                event,
                event_id=event_id,
                source="/fmc/bench",
                time=now,
                correlation_id=None,
                causation_id=None,
            )
            headers = [
                ("content-type", CONTENT_TYPE.encode()),
                ("ce_type", event.event_type.encode()),
                ("ce_id", event_id.encode()),
            ]
            futures.append(
                await producer.send(topic, value=value, key=event.partition_key().encode(), headers=headers)
            )
        await asyncio.gather(*futures)
        return count / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def through_outbox_relay_in_process(
    settings: KafkaSettings, url: str, count: int, per_transaction: int
) -> float:
    """Writers and relay in this process, on one event loop (the embedded stack's layout)."""
    engine = db.create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(METADATA.drop_all)
        await connection.run_sync(METADATA.create_all)
    sessions = db.session_factory(engine)
    outbox = Outbox(TABLES, source="/fmc/bench", clock=SystemClock())
    producer = make_producer(settings, "bench-relay")
    await producer.start()
    relay = OutboxRelay(
        sessions=sessions, tables=TABLES, producer=producer, clock=SystemClock(), batch_size=2000
    )
    batch = events(count)
    stop = asyncio.Event()
    try:
        started = time.perf_counter()
        relay_task = asyncio.create_task(relay.run(stop))
        for offset in range(0, count, per_transaction):
            async with db.transaction(sessions) as session:
                await outbox.add_many(session, batch[offset : offset + per_transaction])
            relay.notify()
        while await relay.pending():
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - started
        stop.set()
        await relay_task
        return count / elapsed
    finally:
        await producer.stop()
        await engine.dispose()


async def relay_ready(relay: ManagedProcess, port: int) -> None:
    def ready() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    for _ in range(300):
        relay.check_alive()
        if await asyncio.to_thread(ready):
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the relay process never became ready: {relay.log_tail()}")


async def through_outbox_with_relay_process(
    settings: KafkaSettings, url: str, count: int, per_transaction: int, log_dir: Path
) -> float:
    """Writers in this process; the relay in its own (``fmc_common.messaging.relay_main``): production."""
    engine = db.create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(METADATA.drop_all)
        await connection.run_sync(METADATA.create_all)
    sessions = db.session_factory(engine)
    outbox = Outbox(TABLES, source="/fmc/bench", clock=SystemClock())
    # As the sidecar runs it: its default batch size and poll interval, the URL in its environment.
    env = dict(os.environ, FMC_KAFKA_BOOTSTRAP_SERVERS=settings.bootstrap_servers, FMC_RELAY_DATABASE_URL=url)
    port = free_port()
    relay = ManagedProcess(
        "relay",
        [
            sys.executable,
            "-m",
            "fmc_common.messaging.relay_main",
            "--http-host",
            "127.0.0.1",
            "--http-port",
            str(port),
        ],
        log_dir / "relay.log",
        env,
    )
    relay.start()
    probe = OutboxRelay(sessions=sessions, tables=TABLES, producer=None, clock=SystemClock())
    batch = events(count)
    try:
        await relay_ready(relay, port)  # connected and polling before the clock starts
        started = time.perf_counter()
        for offset in range(0, count, per_transaction):
            async with db.transaction(sessions) as session:
                await outbox.add_many(session, batch[offset : offset + per_transaction])
        while await probe.pending():
            relay.check_alive()
            await asyncio.sleep(0.005)
        return count / (time.perf_counter() - started)
    finally:
        relay.stop()
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--per-transaction", type=int, default=100)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        broker = BrokerProcess(free_port(), Path(tmp) / "tansu.log")
        broker.start()
        try:
            await broker.wait_ready()
            settings = KafkaSettings(bootstrap_servers=broker.bootstrap)
            topic = "bench.bare.v1"
            await ensure_topics(settings, [topic, "fmc.registry.events.v1"])
            bare_rates: list[float] = []
            process_rates: list[float] = []
            in_process_rates: list[float] = []
            for round_no in range(1, args.rounds + 1):
                bare_rates.append(await bare_producer(settings, topic, args.events))
                in_process_rates.append(
                    await through_outbox_relay_in_process(settings, url, args.events, args.per_transaction)
                )
                process_rates.append(
                    await through_outbox_with_relay_process(
                        settings, url, args.events, args.per_transaction, Path(tmp)
                    )
                )
                print(
                    f"round {round_no}: bare {bare_rates[-1]:,.0f} ev/s   "
                    f"outbox+relay process {process_rates[-1]:,.0f} ev/s   "
                    f"outbox+relay in process {in_process_rates[-1]:,.0f} ev/s"
                )
        finally:
            broker.stop()

    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    bare, separate, in_process = median(bare_rates), median(process_rates), median(in_process_rates)
    backend = "postgresql" if args.database_url and "postgres" in args.database_url else "sqlite"
    print(
        f"median: bare aiokafka producer {bare:,.0f} ev/s; outbox ({backend}) + relay in its own process "
        f"(production) {separate:,.0f} ev/s (ratio {separate / bare:.3f}); relay in the writers' process "
        f"{in_process:,.0f} ev/s (ratio {in_process / bare:.3f})"
    )
    print(
        json.dumps(
            {
                "bare_eps": round(bare),
                "outbox_eps": round(separate),
                "ratio": round(separate / bare, 3),
                "outbox_relay_in_process_eps": round(in_process),
                "ratio_relay_in_process": round(in_process / bare, 3),
                "events": args.events,
                "backend": backend,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
