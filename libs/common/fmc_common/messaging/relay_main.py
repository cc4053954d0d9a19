"""The outbox relay as a process of its own: ``python -m fmc_common.messaging.relay_main``.

A service normally relays from inside its own process. Where request handling and relaying should
not share a core (a busy service, or the relay as a separate single-replica Deployment), start the
service with ``FMC_<SVC>_RELAY_IN_PROCESS=false`` and run this next to it on the same database. Every
service's outbox has the same table, so one program serves them all. It stops on SIGTERM/SIGINT
after a last round.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from fmc_common import db
from fmc_common.clock import SystemClock
from fmc_common.logs import configure_logging
from fmc_common.messaging.kafka import make_producer
from fmc_common.messaging.relay import OutboxRelay
from fmc_common.messaging.tables import platform_tables
from fmc_common.settings import KafkaSettings

log = logging.getLogger(__name__)


async def relay_forever(
    database_url: str, kafka: KafkaSettings, batch_size: int, poll_interval: float
) -> None:
    engine = db.create_engine(database_url)
    producer = make_producer(kafka, client_id="fmc-outbox-relay")
    await producer.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    relay = OutboxRelay(
        sessions=db.session_factory(engine),
        tables=platform_tables(db.new_metadata()),
        producer=producer,
        clock=SystemClock(),
        batch_size=batch_size,
        poll_interval=poll_interval,
    )
    log.info("relay started")
    try:
        await relay.run(stop)
        await relay.run_once()
    finally:
        await producer.stop()
        await engine.dispose()
    log.info("relay stopped")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--poll-interval", type=float, default=0.05)
    args = parser.parse_args(argv)
    configure_logging("outbox-relay")
    kafka = KafkaSettings()  # FMC_KAFKA_* from the environment
    asyncio.run(relay_forever(args.database_url, kafka, args.batch_size, args.poll_interval))


if __name__ == "__main__":
    main()
