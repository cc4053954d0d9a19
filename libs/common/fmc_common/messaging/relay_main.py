"""The outbox relay as a process of its own: ``python -m fmc_common.messaging.relay_main``.

A service normally relays from inside its own process. In production (a sidecar beside every
service, see docs/decisions/2026-11-22-outbox-relay-as-sidecar.md) the service runs with
``FMC_<SVC>_RELAY_IN_PROCESS=false`` and this program publishes its outbox from the same database.
Every service's outbox has the same table, so one program serves them all.

The database URL comes from ``--database-url`` or, so that its password stays off the command
line, from ``FMC_RELAY_DATABASE_URL``; Kafka from the usual ``FMC_KAFKA_*`` variables. It waits for
the broker at start, retries database and broker failures after that, and stops on SIGTERM/SIGINT
after a last round. Over HTTP it answers ``/healthz`` (the loop is turning), ``/readyz`` (its last
round got through to the database and the broker) and ``/metrics`` (Prometheus).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Coroutine, Iterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fmc_common import db
from fmc_common.clock import SystemClock
from fmc_common.logs import configure_logging
from fmc_common.messaging.kafka import make_producer, start_with_retry
from fmc_common.messaging.relay import OutboxRelay
from fmc_common.messaging.tables import platform_tables
from fmc_common.metrics import ServiceMetrics
from fmc_common.settings import KafkaSettings

log = logging.getLogger(__name__)

DATABASE_URL_VARIABLE = "FMC_RELAY_DATABASE_URL"
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


class RelayProcess:
    """The relay loop of one database and what its HTTP endpoints report about it."""

    def __init__(
        self,
        *,
        database_url: str,
        kafka: KafkaSettings,
        name: str,
        batch_size: int,
        poll_interval: float,
        stale_after: float,
    ) -> None:
        self._database_url = database_url
        self._kafka = kafka
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._stale_after = stale_after
        self.metrics = ServiceMetrics(name)
        self.stop = asyncio.Event()
        self._relay: OutboxRelay | None = None

    async def run(self) -> None:
        """Connect, relay until ``stop`` is set, then publish one last round and close."""
        engine = db.create_engine(self._database_url)
        producer = make_producer(self._kafka, client_id="fmc-outbox-relay")
        try:
            if not await self._until_stopped(start_with_retry(producer.start, "outbox-relay")):
                return
            self._relay = OutboxRelay(
                sessions=db.session_factory(engine),
                tables=platform_tables(db.new_metadata()),
                producer=producer,
                clock=SystemClock(),
                batch_size=self._batch_size,
                poll_interval=self._poll_interval,
                metrics=self.metrics,
            )
            log.info("relay started")
            await self._relay.run(self.stop)
            await self._relay.run_once()
            log.info("relay stopped")
        finally:
            await producer.stop()
            await engine.dispose()

    async def _until_stopped(self, start: Coroutine[Any, Any, None]) -> bool:
        """Await ``start`` unless ``stop`` comes first (SIGTERM while waiting for the broker)."""
        starting = asyncio.ensure_future(start)
        stopping = asyncio.ensure_future(self.stop.wait())
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not starting.done():
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
            return False
        starting.result()  # a broker that never came up ends the process with the error
        return True

    def _age(self, moment: float | None) -> float | None:
        return None if moment is None else asyncio.get_running_loop().time() - moment

    def _report(self, moment: float | None) -> Response:
        age = self._age(moment)
        fresh = age is not None and age <= self._stale_after
        body = {
            "status": "ok" if fresh else "stale" if age is not None else "starting",
            "seconds_since": None if age is None else round(age, 3),
            "stale_after": self._stale_after,
        }
        return JSONResponse(body, status_code=200 if fresh else 503)

    async def healthz(self, request: Request) -> Response:
        """Liveness: a round ended (well or not) recently, so the loop is not stuck."""
        return self._report(self._relay.last_round_at if self._relay else None)

    async def readyz(self, request: Request) -> Response:
        """Readiness: a round reached the database and the broker recently."""
        return self._report(self._relay.last_success_at if self._relay else None)

    async def prometheus(self, request: Request) -> Response:
        # The backlog is counted at scrape time (every 30 s or so), not on every 50 ms round.
        if self._relay is not None:
            try:
                pending = await asyncio.wait_for(self._relay.pending(), timeout=5)
            except Exception as exc:
                log.warning("outbox backlog not counted", extra={"error": repr(exc)})
            else:
                self.metrics.outbox_pending.set(pending)
        return Response(self.metrics.render(), media_type=PROMETHEUS_TEXT)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/healthz", self.healthz),
                Route("/readyz", self.readyz),
                Route("/metrics", self.prometheus),
            ]
        )


class _EndpointServer(uvicorn.Server):
    """uvicorn without its own signal handling: ``serve`` installs the relay's handlers instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(process: RelayProcess, host: str, port: int) -> None:
    """Run the relay and its endpoints; SIGTERM/SIGINT stop both. Errors of either end the process."""
    server = _EndpointServer(
        uvicorn.Config(process.app(), host=host, port=port, log_config=None, access_log=False, lifespan="off")
    )

    def stop() -> None:
        process.stop.set()
        server.should_exit = True

    async def endpoints() -> None:
        try:
            await server.serve()
        except SystemExit as exc:  # how uvicorn reports a port it could not bind
            raise RuntimeError(f"the relay's endpoints could not listen on {host}:{port}") from exc

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    relaying = asyncio.create_task(process.run(), name="relay")
    serving = asyncio.create_task(endpoints(), name="endpoints")
    await asyncio.wait({relaying, serving}, return_when=asyncio.FIRST_COMPLETED)
    if not process.stop.is_set():
        # One of them ended on its own: a fatal error (say, the port taken or the broker never up).
        stop()
    results = await asyncio.gather(relaying, serving, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help=f"default: ${DATABASE_URL_VARIABLE}")
    parser.add_argument("--name", default="outbox-relay", help="the service label of its metrics")
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--poll-interval", type=float, default=0.05, help="seconds between idle rounds")
    parser.add_argument("--http-host", default="0.0.0.0")
    parser.add_argument("--http-port", type=int, default=8090)
    parser.add_argument(
        "--stale-after", type=float, default=30.0, help="seconds without a round before /healthz fails"
    )
    args = parser.parse_args(argv)
    database_url = args.database_url or os.environ.get(DATABASE_URL_VARIABLE)
    if not database_url:
        parser.error(f"give --database-url or set {DATABASE_URL_VARIABLE}")
    if args.batch_size < 1 or args.poll_interval <= 0 or args.stale_after <= 0:
        parser.error("--batch-size, --poll-interval and --stale-after must be positive")
    configure_logging("outbox-relay")
    process = RelayProcess(
        database_url=database_url,
        kafka=KafkaSettings(),  # FMC_KAFKA_* from the environment
        name=args.name,
        batch_size=args.batch_size,
        poll_interval=args.poll_interval,
        stale_after=args.stale_after,
    )
    asyncio.run(serve(process, args.http_host, args.http_port))


if __name__ == "__main__":
    main()
