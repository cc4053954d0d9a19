"""The background part of a gateway replica: prepare runs, claim chunks, answer items, store records.

Built by the composition root from settings and the service runtime; started after the runtime
(database, broker, relay) and stopped before it: stop claiming and sending, let requests in flight
finish within the grace period, store their records, hand the unfinished chunks back.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import uuid
from datetime import timedelta
from functools import partial
from typing import Any

from fmc_common.events.inference import GpuPool
from fmc_common.runtime import ServiceRuntime, stop_background_tasks
from fmc_common.service_tokens import ServiceTokens
from fmc_gateway.runs.claims import ChunkClaimer, ClaimConfig
from fmc_gateway.runs.executor import Executor, ExecutorConfig
from fmc_gateway.runs.items import ItemsPolicy
from fmc_gateway.runs.loading import ModelLoader
from fmc_gateway.runs.metrics import GatewayMetrics
from fmc_gateway.runs.models import RunStatus
from fmc_gateway.runs.preparation import PreparerConfig, RunPreparer
from fmc_gateway.runs.records import RecordWriter, WriterConfig
from fmc_gateway.runs.sources import ItemsSources
from fmc_gateway.runs.watchdog import StuckWatchdog
from fmc_gateway.settings import GatewaySettings
from fmc_gateway.triton.hosts import TritonHosts
from fmc_gateway.triton.inference import GRPC_CHANNEL_ARGS
from fmc_gateway.triton.pods import TritonPods

log = logging.getLogger(__name__)


def _endpoint_changed(writer: RecordWriter, runs: set[uuid.UUID], reason: str | None) -> None:
    """An endpoint went down (``reason``) or came back (None): its runs say so in their status."""
    for run_id in runs:
        writer.set_state(run_id, RunStatus.WAITING if reason else RunStatus.RUNNING, reason)


def triton_pods(s: GatewaySettings) -> TritonPods:
    """The pods behind each Triton address (off unless ``triton_pods`` or ``triton_resolve_pods``)."""
    return TritonPods(static=s.triton_pods, resolve=s.triton_resolve_pods, base_args=GRPC_CHANNEL_ARGS)


def _executor_config(s: GatewaySettings, pools: dict[GpuPool, int], pods: TritonPods) -> ExecutorConfig:
    return ExecutorConfig(
        pools=pools,
        pods=pods if pods.enabled else None,
        endpoint_capacity=s.endpoint_capacity,
        breaker_threshold=s.breaker_failure_threshold,
        breaker_reset=s.breaker_reset_seconds,
        retry_base=s.retry_base_seconds,
        retry_max=s.retry_max_seconds,
    )


def items_sources(s: GatewaySettings) -> ItemsSources:
    """The sources runs may name; a malformed base stops the start, naming the setting."""
    return ItemsSources(s.items_allowed_urls, s.items_directory)


def triton_hosts(s: GatewaySettings) -> TritonHosts:
    """The Triton servers endpoints may name: the listed ones and ``triton_url`` (malformed: no start)."""
    return TritonHosts([*s.triton_allowed_hosts, s.triton_url])


def _preparer_config(
    s: GatewaySettings, sources: ItemsSources, hosts: TritonHosts, tokens: ServiceTokens
) -> PreparerConfig:
    return PreparerConfig(
        chunk_size=s.chunk_size,
        chunk_size_max=s.chunk_size_max,
        # Long enough for a slow readiness check and items fetch; a dead preparer's run is retried after.
        lease=timedelta(seconds=max(s.readiness_timeout_seconds * 6, 60)),
        retry=timedelta(seconds=s.readiness_retry_seconds),
        readiness_timeout=s.readiness_timeout_seconds,
        items=ItemsPolicy(
            token=tokens.source(s.items_audience),
            sources=sources,
            max_bytes=s.items_max_bytes,
            timeout=max(s.readiness_timeout_seconds, 30.0),
        ),
        hosts=hosts,
    )


def replica_name() -> str:
    """Unique per process: a restarted replica never mistakes a dead one's leases for its own."""
    return f"{socket.gethostname()[:60]}-{os.getpid()}-{secrets.token_hex(3)}"


class GatewayEngine:
    def __init__(self, runtime: ServiceRuntime, settings: GatewaySettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.replica = replica_name()
        self.metrics = GatewayMetrics(runtime.metrics.registry)
        self.sources = items_sources(settings)
        self.triton_hosts = triton_hosts(settings)
        self.triton_pods = triton_pods(settings)
        self.models: ModelLoader | None = None
        if settings.triton_model_control == "explicit":
            self.models = ModelLoader(
                sessions=runtime.sessions,
                clock=runtime.clock,
                pods=self.triton_pods,
                load_timeout=settings.triton_model_load_timeout_seconds,
                check_timeout=settings.readiness_timeout_seconds,
                idle=timedelta(seconds=settings.triton_model_idle_seconds),
            )
        self._stop = asyncio.Event()
        self._prepare_wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False
        self.executor: Executor | None = None

    @property
    def pools(self) -> dict[GpuPool, int]:
        return {pool: capacity for pool, capacity in self.settings.pool_capacity.items() if capacity > 0}

    def notify(self) -> None:
        """A run was accepted: prepare it without waiting for the next poll."""
        self._prepare_wake.set()

    async def start(self) -> None:
        s, runtime = self.settings, self.runtime
        if self.models is not None:  # runs and arena battles both load models
            self._spawn(self.models.run(self._stop, s.triton_model_sweep_seconds), "models")
        if s.triton_resolve_pods:
            self._spawn(self.triton_pods.run(self._stop, s.triton_resolve_interval_seconds), "pods")
        self._started = True
        if not s.runs_enabled:
            return
        writer = RecordWriter(
            sessions=runtime.sessions,
            outbox=runtime.outbox,
            clock=runtime.clock,
            config=WriterConfig(
                s.record_flush_items,
                s.record_flush_seconds,
                s.progress_every_items,
                timedelta(seconds=s.progress_every_seconds),
            ),
            after_commit=runtime.after_commit,
            on_committed=lambda done, completed: claimer.committed(done, completed),
            metrics=self.metrics,
        )
        executor = Executor(
            config=_executor_config(s, self.pools, self.triton_pods),
            clock=runtime.clock,
            replica=self.replica,
            metrics=self.metrics,
            record=writer.add,
            item_done=lambda item: claimer.item_done(item),
            endpoint_changed=partial(_endpoint_changed, writer),
        )
        claimer = ChunkClaimer(
            sessions=runtime.sessions,
            clock=runtime.clock,
            replica=self.replica,
            config=ClaimConfig(
                timedelta(seconds=s.chunk_lease_seconds), s.chunks_in_hand_per_run, s.claim_interval_seconds
            ),
            executor=executor,
            writer=writer,
        )
        preparer = RunPreparer(
            sessions=runtime.sessions,
            outbox=runtime.outbox,
            clock=runtime.clock,
            replica=self.replica,
            config=_preparer_config(s, self.sources, self.triton_hosts, self.runtime.service_tokens),
            models=self.models,
            after_commit=self._prepared(claimer),
        )
        watchdog = StuckWatchdog(
            sessions=runtime.sessions,
            outbox=runtime.outbox,
            clock=runtime.clock,
            stuck_after=timedelta(seconds=s.stuck_after_seconds),
            wait_limit=timedelta(seconds=s.wait_limit_seconds),
            after_commit=runtime.after_commit,
        )
        self.executor, self._writer, self._claimer = executor, writer, claimer
        executor.start()
        self._spawn(writer.run(self._stop), "records")
        self._spawn(claimer.run(self._stop), "claims")
        self._spawn(preparer.run(self._stop, self._prepare_wake, s.claim_interval_seconds), "prepare")
        self._spawn(watchdog.run(self._stop, s.watchdog_interval_seconds), "watchdog")
        log.info("gateway engine started", extra={"replica": self.replica})

    def _prepared(self, claimer: ChunkClaimer) -> Any:
        def after_commit() -> None:
            self.runtime.after_commit()
            claimer.wake.set()

        return after_commit

    def _spawn(self, coroutine: Any, name: str) -> None:
        self._tasks.append(asyncio.create_task(coroutine, name=f"gateway-{name}"))

    async def stop(self) -> None:
        if not self._started:
            return
        grace = self.settings.shutdown_grace_seconds
        if self.executor is not None:
            await self.executor.stop(grace)
        self._stop.set()
        await stop_background_tasks(self._tasks, grace, "gateway task failed")
        self._tasks = []
        if self.executor is None:
            self._started = False
            return
        try:
            await self._writer.flush()
            await self._claimer.release_all()
        except Exception:
            log.exception("handing chunks back failed; their leases run out instead")
        self._started = False
