"""What a running service is made of, built from settings by its composition root.

``ServiceRuntime`` owns the engine, the producer, the outbox relay, the consumers and the gRPC
server; it starts them in order and stops them gracefully (stop taking work, finish what is in
hand, commit offsets, close).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import grpc
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fmc_common import db, migrations
from fmc_common.auth import TokenVerifier
from fmc_common.clock import Clock, SystemClock
from fmc_common.events.base import Event
from fmc_common.events.topics import CATALOGUE, dead_letter_topic
from fmc_common.grpc_support import start_server
from fmc_common.messaging.consumer import ConsumerRunner, Handler
from fmc_common.messaging.kafka import (
    broker_reachable,
    ensure_topics,
    make_consumer,
    make_producer,
    start_with_retry,
)
from fmc_common.messaging.outbox import Outbox
from fmc_common.messaging.relay import OutboxRelay
from fmc_common.messaging.tables import PlatformTables
from fmc_common.metrics import ServiceMetrics
from fmc_common.service_tokens import ServiceTokens
from fmc_common.settings import AuthSettings, KafkaSettings
from fmc_common.tracing import configure_tracing

log = logging.getLogger(__name__)


class RuntimeSettings(Protocol):
    """The attributes a runtime reads (every service's settings class has them)."""

    service_name: str
    database_url: str
    http_host: str
    grpc_port: int
    migrate_on_start: bool
    relay_in_process: bool
    relay_batch_size: int
    relay_poll_interval_seconds: float
    consumer_max_retries: int | None
    consumer_retry_backoff_seconds: float
    consumer_retry_backoff_max_seconds: float
    consumer_retry_budget_seconds: float
    shutdown_grace_seconds: float
    kafka: KafkaSettings
    auth: AuthSettings


@dataclass(frozen=True)
class ConsumerSpec:
    """One consumer group: its name (also the group id), topics, and a handler per event type."""

    name: str
    topics: Sequence[str]
    handlers: Mapping[type[Event], Handler]


GrpcRegistrar = Callable[[grpc.aio.Server], Sequence[str]]

T = TypeVar("T")


async def stop_background_tasks(tasks: Sequence[asyncio.Task[Any]], grace: float, failed: str) -> None:
    """The second half of a graceful stop, once the tasks have been told to stop: wait up to ``grace``
    seconds for them to finish, cancel those still running, and log each that ended with an exception
    (message ``failed``), so that a crash during shutdown is seen rather than swallowed. The service
    runtime stops its consumers' tasks with it; the gateway's run engine stops its loops the same way."""
    if not tasks:
        return
    done, pending = await asyncio.wait(tasks, timeout=grace)
    for task in pending:
        task.cancel()
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            log.error(failed, exc_info=task.exception())


@dataclass
class ServiceRuntime:
    settings: RuntimeSettings
    tables: PlatformTables
    migrations_path: Path
    clock: Clock = field(default_factory=SystemClock)
    consumers: Sequence[ConsumerSpec] = ()
    grpc_registrar: GrpcRegistrar | None = None

    engine: AsyncEngine = field(init=False)
    sessions: async_sessionmaker[AsyncSession] = field(init=False)
    outbox: Outbox = field(init=False)
    metrics: ServiceMetrics = field(init=False)
    producer: AIOKafkaProducer = field(init=False)
    relay: OutboxRelay = field(init=False)
    grpc_port: int | None = field(init=False, default=None)
    verifier: TokenVerifier = field(init=False)
    service_tokens: ServiceTokens = field(init=False)

    def __post_init__(self) -> None:
        name = self.settings.service_name
        self.engine = db.create_engine(self.settings.database_url)
        self.sessions = db.session_factory(self.engine)
        self.outbox = Outbox(self.tables, source=f"/fmc/{name}", clock=self.clock)
        self.metrics = ServiceMetrics(name)
        self.verifier = TokenVerifier(self.settings.auth, name)
        self.service_tokens = ServiceTokens(self.settings.auth, name)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._runners: dict[str, ConsumerRunner] = {}
        self._consumers_down: set[str] = set()
        self._grpc: grpc.aio.Server | None = None
        self._started = False
        self._components: dict[type[object], object] = {}

    def provide(self, component: object) -> None:
        """Register a service-specific object (a gateway client, an engine) for the edge to inject.

        The composition root calls this once per kind; endpoints receive it through a typed
        ``Annotated`` dependency (``fmc_common.web.deps.component``), never through ``app.state``.
        """
        self._components[type(component)] = component

    def component(self, kind: type[T]) -> T:
        found = self._components.get(kind)
        if found is None:
            for registered, candidate in self._components.items():
                if issubclass(registered, kind):
                    found = candidate
                    break
        if not isinstance(found, kind):
            raise LookupError(f"{kind.__name__} was not provided by the composition root")
        return found

    def after_commit(self) -> None:
        if self._started:
            self.relay.notify()

    async def start(self) -> None:
        settings = self.settings
        configure_tracing(settings.service_name)  # FMC_TRACING_OTLP_ENDPOINT; off when unset
        if settings.migrate_on_start:
            await migrations.upgrade(self.migrations_path, settings.database_url)
        self.producer = make_producer(settings.kafka, client_id=f"{settings.service_name}-producer")
        await start_with_retry(self.producer.start, "producer")
        if settings.kafka.create_topics:
            await ensure_topics(settings.kafka, [str(spec.topic) for spec in CATALOGUE])
        self.relay = OutboxRelay(
            sessions=self.sessions,
            tables=self.tables,
            producer=self.producer,
            clock=self.clock,
            batch_size=settings.relay_batch_size,
            poll_interval=settings.relay_poll_interval_seconds,
            metrics=self.metrics,
        )
        if settings.relay_in_process:
            self._tasks.append(asyncio.create_task(self.relay.run(self._stop), name="outbox-relay"))
        consumers = [(spec, self._make_consumer(spec)) for spec in self.consumers]
        # Started together: each waits for the broker to admit it to its group.
        await asyncio.gather(*(start_with_retry(consumer.start, spec.name) for spec, consumer in consumers))
        for spec, consumer in consumers:
            self._tasks.append(
                asyncio.create_task(self._supervise(spec, consumer), name=f"consumer-{spec.name}")
            )
        if self.grpc_registrar is not None:
            self._grpc, self.grpc_port = await start_server(
                host=settings.http_host, port=settings.grpc_port, register=self.grpc_registrar
            )
        self._started = True
        log.info("service started", extra={"grpc_port": self.grpc_port})

    def _make_consumer(self, spec: ConsumerSpec) -> AIOKafkaConsumer:
        settings = self.settings
        return make_consumer(
            settings.kafka,
            spec.name,
            list(spec.topics),
            client_id=spec.name,
            max_poll_interval_seconds=settings.consumer_retry_budget_seconds + 60,
        )

    def _make_runner(self, spec: ConsumerSpec, consumer: AIOKafkaConsumer) -> ConsumerRunner:
        settings = self.settings
        return ConsumerRunner(
            name=spec.name,
            consumer=consumer,
            producer=self.producer,
            dead_letter_topic=str(dead_letter_topic(settings.service_name)),
            handlers=spec.handlers,
            sessions=self.sessions,
            tables=self.tables,
            clock=self.clock,
            max_retries=settings.consumer_max_retries,
            retry_backoff=settings.consumer_retry_backoff_seconds,
            retry_backoff_max=settings.consumer_retry_backoff_max_seconds,
            retry_budget=settings.consumer_retry_budget_seconds,
            max_message_bytes=settings.kafka.max_message_bytes,
            metrics=self.metrics,
        )

    async def _supervise(self, spec: ConsumerSpec, consumer: AIOKafkaConsumer) -> None:
        """Run one consumer group until the service stops; a consumer that dies is restarted.

        A consumer task ending on its own (a broker error, a failed commit after a rebalance, a
        bug) is logged, counted and restarted with back-off; meanwhile readiness reports it down.
        Its uncommitted message is delivered again, and the inbox makes that harmless.
        """
        delay = 1.0
        while not self._stop.is_set():
            runner = self._make_runner(spec, consumer)
            self._runners[spec.name] = runner
            self._consumers_down.discard(spec.name)
            try:
                await runner.run()
            except Exception:
                log.exception("consumer stopped unexpectedly; restarting", extra={"consumer": spec.name})
            if self._stop.is_set():
                return
            self._consumers_down.add(spec.name)
            self.metrics.consumer_restarts.labels(consumer=spec.name).inc()
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=delay)
                return
            except TimeoutError:
                pass
            delay = min(delay * 2, 30.0)
            consumer = self._make_consumer(spec)
            try:
                await consumer.start()
            except Exception:
                log.exception("consumer could not rejoin its group; retrying", extra={"consumer": spec.name})
                await consumer.stop()

    async def stop(self) -> None:
        """Graceful: stop polling, finish messages in hand, flush the outbox once more, close."""
        grace = self.settings.shutdown_grace_seconds
        if self._grpc is not None:
            await self._grpc.stop(grace)
        for runner in self._runners.values():
            runner.stop()
        self._stop.set()
        await stop_background_tasks(self._tasks, grace, "background task failed")
        if self._started:
            try:
                if self.settings.relay_in_process:
                    await asyncio.wait_for(self.relay.run_once(), timeout=grace)
            except Exception:
                log.exception("final outbox flush failed; rows stay unsent and go out after restart")
            await self.producer.stop()
        await self.engine.dispose()
        self._started = False

    async def readiness(self) -> dict[str, bool]:
        """Ready to serve: the database answers and every consumer runs.

        The broker is not a condition: writes go to the outbox and are published when it is back,
        so a broker outage must not take every API pod out of its Service at once.
        """
        database = await db.ping(self.engine)
        consumers = self._started and not self._consumers_down
        return {"database": database, "consumers": consumers}

    async def consumer_states(self) -> list[tuple[str, bool, int | None]]:
        """Each consumer group of this process: its name, whether it runs, and its lag if known."""
        states = []
        for spec in self.consumers:
            runner = self._runners.get(spec.name)
            running = self._started and runner is not None and spec.name not in self._consumers_down
            states.append((spec.name, running, await runner.lag() if runner and running else None))
        return states

    async def broker_reachable(self) -> bool:
        return self._started and await broker_reachable(self.producer)
