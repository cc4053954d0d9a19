"""Answering items: bounded concurrency per pool and per endpoint, fair turns across teams, retries, breakers.

One dispatcher per pool takes a pool slot (an asyncio semaphore of the pool's capacity), then the
next item of the next team in rotation (and of that team's next run) whose endpoint has a free slot
and a closed (or probing) circuit, and answers it in its own task. Outcomes:

* answered, or refused by the model: a record (the model's error is its answer to that item);
* endpoint down (connection refused, model unloaded): the breaker counts it and the item goes back
  to the front of its run's queue; it is never given up, the run waits and says why;
* timeout or transient error: retried after exponential backoff with jitter, up to the run's
  ``max_attempts``; then recorded as an error while the endpoint is otherwise healthy (closed
  circuit), or, for a timeout, when the server still says the model is ready (a model that times out
  on every item gives per-item errors, not a run waiting forever);
* an answer outside the contract (an output of another type): the model's answer, an error record.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from fmc_common.clock import Clock
from fmc_common.events.inference import DecodingParameters, GpuPool, RunLimits, ServingConvention
from fmc_gateway.runs.backoff import backoff_delay
from fmc_gateway.runs.breaker import BreakerState, CircuitBreaker
from fmc_gateway.runs.efficiency import tokens_per_second
from fmc_gateway.runs.metrics import BREAKER_VALUE, GatewayMetrics
from fmc_gateway.runs.models import RecordStatus
from fmc_gateway.runs.scheduling import FairQueue
from fmc_gateway.runs.snapshot import EndpointLoad, PoolLoad, ReplicaLoad
from fmc_gateway.serving.prompts import ChatMessage
from fmc_gateway.serving.templates import item_prompt
from fmc_gateway.triton.inference import (
    Answer,
    EndpointAddress,
    FailureKind,
    InferenceFailure,
    ModelClient,
)
from fmc_gateway.triton.pods import TritonPods

log = logging.getLogger(__name__)
READY_TIMEOUT = 2.0  # seconds for the model-ready check that tells a slow model from an outage


@dataclass(frozen=True)
class RunContext:
    run_id: uuid.UUID
    pool: GpuPool
    endpoint: EndpointAddress
    datatypes: Mapping[str, str]
    batched: bool
    decoding: DecodingParameters
    limits: RunLimits
    server_version: str
    model_version: str
    team_id: uuid.UUID | None = None
    """The fair turn is the team's: its runs on a pool share it (None: the run is its own team)."""
    chat_template: str | None = None
    """The run's chat template: every item is rendered through it on a raw-text convention."""


@dataclass(slots=True)
class WorkItem:
    run_id: uuid.UUID
    chunk_no: int
    seq: int
    item_id: str
    prompt: str | None
    messages: tuple[ChatMessage, ...] | None = None
    """A chat item's conversation (then ``prompt`` is None)."""
    continuations: tuple[str, ...] | None = None
    """A log-likelihood item's choices (then ``prompt`` is its context): scored, not answered."""
    attempts: int = 0
    failures: int = 0
    started_at: datetime | None = None


@dataclass(frozen=True)
class ExecutorConfig:
    pools: Mapping[GpuPool, int]
    endpoint_capacity: int
    breaker_threshold: int
    breaker_reset: float
    retry_base: float
    retry_max: float
    pods: TritonPods | None = None
    """The pods behind each Triton address, when requests are balanced across them."""


@dataclass
class EndpointState:
    address: EndpointAddress
    client: ModelClient
    breaker: CircuitBreaker
    capacity: int
    in_flight: int = 0
    runs: set[uuid.UUID] = field(default_factory=set)
    down_reason: str | None = None
    series: dict[GpuPool, _Series] = field(default_factory=dict)


class _Series:
    """The metric children of one pool and endpoint, looked up once (labels() costs on every item).

    The in-flight gauge reads ``in_flight`` when scraped: a plain counter on the hot path instead
    of two locked gauge updates per item."""

    def __init__(self, metrics: GatewayMetrics, pool: GpuPool, endpoint: str) -> None:
        labels = {"pool": pool, "endpoint": endpoint}
        self.in_flight = 0
        metrics.in_flight.labels(**labels).set_function(lambda: self.in_flight)
        self.latency = metrics.latency.labels(**labels)
        self.ok = metrics.requests.labels(outcome="ok", **labels)
        self.failed = {kind: metrics.requests.labels(outcome=kind, **labels) for kind in FailureKind}


RecordSink = Callable[[dict[str, Any]], None]
ItemDone = Callable[[WorkItem], None]
EndpointChange = Callable[[set[uuid.UUID], str | None], None]


class Executor:
    def __init__(
        self,
        *,
        config: ExecutorConfig,
        clock: Clock,
        replica: str,
        metrics: GatewayMetrics,
        record: RecordSink,
        item_done: ItemDone,
        endpoint_changed: EndpointChange,
    ) -> None:
        self._config = config
        self._clock = clock
        self._replica = replica
        self._metrics = metrics
        self._record = record
        self._item_done = item_done
        self._endpoint_changed = endpoint_changed
        self._runs: dict[uuid.UUID, RunContext] = {}
        self._run_endpoint: dict[uuid.UUID, EndpointState] = {}  # the run's endpoint, found once
        self._endpoints: dict[str, EndpointState] = {}
        self._queues: dict[GpuPool, FairQueue[uuid.UUID, WorkItem]] = {p: FairQueue() for p in config.pools}
        for pool, queue in self._queues.items():
            metrics.queued.labels(pool=pool).set_function(queue.__len__)  # read when scraped
        self._pool_in_flight = dict.fromkeys(config.pools, 0)
        self._changed = {pool: asyncio.Event() for pool in config.pools}
        self._timers: set[asyncio.TimerHandle] = set()
        self._workers: list[asyncio.Task[None]] = []
        self._stopping = False

    # -- feeding ------------------------------------------------------------------------------

    def add_run(self, context: RunContext) -> None:
        if context.pool not in self._queues:
            raise ValueError(f"pool {context.pool} has no capacity on this replica")
        self._runs[context.run_id] = context
        label = context.endpoint.label
        state = self._endpoints.get(label)
        if state is None:
            state = self._endpoints[label] = EndpointState(
                address=context.endpoint,
                client=ModelClient(context.endpoint, context.datatypes, context.batched, self._config.pods),
                breaker=CircuitBreaker(self._config.breaker_threshold, self._config.breaker_reset),
                capacity=self._config.endpoint_capacity,
            )
        state.runs.add(context.run_id)
        self._run_endpoint[context.run_id] = state

    def has_run(self, run_id: uuid.UUID) -> bool:
        return run_id in self._runs

    def run_ids(self) -> list[uuid.UUID]:
        return list(self._runs)

    @property
    def pools(self) -> frozenset[GpuPool]:
        return frozenset(self._queues)

    def submit(self, items: list[WorkItem]) -> None:
        for item in items:
            context = self._runs[item.run_id]
            self._queues[context.pool].push(item.run_id, item, group=context.team_id)
        for pool in {self._runs[item.run_id].pool for item in items}:
            self._changed[pool].set()

    def forget_run(self, run_id: uuid.UUID) -> None:
        """The run is finished everywhere: drop its context (its endpoint client stays for reuse)."""
        context = self._runs.pop(run_id, None)
        if context is not None:
            self._queues[context.pool].drop(run_id)
            self._run_endpoint.pop(run_id).runs.discard(run_id)

    # -- running ------------------------------------------------------------------------------

    def start(self) -> None:
        # One worker per slot of the pool: a worker takes the next eligible item and answers it
        # itself, so the pool's capacity bounds the requests in flight without a task per item.
        for pool, capacity in self._config.pools.items():
            for number in range(capacity):
                self._workers.append(asyncio.create_task(self._work(pool), name=f"worker-{pool}-{number}"))

    async def stop(self, grace: float) -> None:
        """Stop sending; let requests in flight finish (their records are kept) within ``grace``."""
        self._stopping = True
        for changed in self._changed.values():
            changed.set()
        for timer in self._timers:
            timer.cancel()
        if self._workers:
            _, pending = await asyncio.wait(self._workers, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._workers, return_exceptions=True)
        for state in self._endpoints.values():
            try:
                await state.client.close()
            except Exception:
                log.warning("closing a Triton client failed", exc_info=True)

    async def _work(self, pool: GpuPool) -> None:
        queue, changed = self._queues[pool], self._changed[pool]
        loop = asyncio.get_running_loop()
        while not self._stopping:
            now = loop.time()
            picked = queue.pop(partial(self._eligible, now=now))
            if picked is None:
                await self._wait(changed, pool, now)
                continue
            run_id, item = picked
            context, state = self._runs[run_id], self._run_endpoint[run_id]
            state.breaker.acquire(now)
            state.in_flight += 1
            self._pool_in_flight[pool] += 1
            await self._answer(context, state, item)

    def _eligible(self, run_id: uuid.UUID, *, now: float) -> bool:
        state = self._run_endpoint.get(run_id)
        if state is None:
            return False
        return state.in_flight < state.capacity and state.breaker.can_send(now)

    async def _wait(self, changed: asyncio.Event, pool: GpuPool, now: float) -> None:
        """Until something changes, or until the earliest open circuit of this pool may probe."""
        retry_at = [
            at
            for state in self._endpoints.values()
            if (at := state.breaker.retry_at()) is not None
            and any(self._runs[r].pool == pool for r in state.runs)
        ]
        timeout = max(0.0, min(retry_at) - now) + 0.001 if retry_at else None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), timeout)
        changed.clear()  # every waiter was woken at the set(); each now looks at the queue

    async def _ask(self, context: RunContext, state: EndpointState, item: WorkItem) -> Answer:
        timeout = context.limits.request_timeout_seconds
        if item.continuations is not None:
            assert item.prompt is not None  # a log-likelihood item's context
            return await state.client.loglikelihoods(
                item.prompt, item.continuations, context.decoding, timeout
            )
        prompt = item_prompt(context.endpoint.convention, context.chat_template, item.prompt, item.messages)
        return await state.client.infer(prompt, context.decoding, timeout)

    async def _answer(self, context: RunContext, state: EndpointState, item: WorkItem) -> None:
        series = state.series.get(context.pool)
        if series is None:
            series = state.series[context.pool] = _Series(self._metrics, context.pool, state.address.label)
        series.in_flight += 1
        if item.started_at is None:
            item.started_at = self._clock.now()
        item.attempts += 1
        try:
            answer = await self._ask(context, state, item)
        except InferenceFailure as failure:
            series.failed[failure.kind].inc()
            await self._failed(context, state, item, failure)
        except Exception as exc:  # a bug must not lose the item: treat it as transient
            log.exception("unexpected error answering an item")
            await self._failed(context, state, item, InferenceFailure(FailureKind.TRANSIENT, repr(exc)))
        else:
            series.ok.inc()
            series.latency.observe(answer.latency_seconds)
            self._healthy(state)
            self._store(
                context,
                item,
                RecordStatus.OK,
                text=answer.text,
                prompt_tokens=answer.prompt_tokens,
                completion_tokens=answer.completion_tokens,
                latency_ms=answer.latency_seconds * 1000,
                ttft_ms=None if answer.ttft_seconds is None else answer.ttft_seconds * 1000,
                tokens_per_second=tokens_per_second(
                    answer.completion_tokens, answer.latency_seconds, answer.ttft_seconds
                ),
                model_version=answer.model_version or context.model_version,
            )
        finally:
            state.in_flight -= 1
            self._pool_in_flight[context.pool] -= 1
            series.in_flight -= 1
            if state.in_flight == state.capacity - 1:
                # A worker of this pool may be waiting because this endpoint was full.
                self._changed[context.pool].set()

    async def _failed(
        self, context: RunContext, state: EndpointState, item: WorkItem, failure: InferenceFailure
    ) -> None:
        if failure.kind == FailureKind.MODEL_ERROR:
            self._healthy(state)  # the endpoint answered: the error is the model's answer
            self._store(context, item, RecordStatus.ERROR, error=failure.message)
            return
        before = state.breaker.state
        after = state.breaker.record_failure(asyncio.get_running_loop().time(), failure.message)
        self._metrics.breaker.labels(endpoint=state.address.label).set(BREAKER_VALUE[after])
        if after == BreakerState.OPEN and before != BreakerState.OPEN and state.down_reason is None:
            state.down_reason = (
                f"{_server_of(state.address)} {state.address.label} is not answering (circuit open since "
                f"{self._clock.now().isoformat()}; last error: {failure.message[:300]}); "
                "items are kept and sent again when it answers"
            )
            log.warning("circuit opened", extra={"endpoint": state.address.label, "error": failure.message})
            self._endpoint_changed(set(state.runs), state.down_reason)
        if failure.kind == FailureKind.ENDPOINT_DOWN:
            item.attempts -= 1  # not the item's fault: it keeps all its attempts
            self._retry(context, item, state.breaker.consecutive_failures)
            return
        item.failures += 1
        # After the run's attempts: an error while the endpoint otherwise answers (closed circuit).
        # With the circuit open, a timeout is still the item's error when the server says the model
        # is ready (the model, not the server, is too slow: a model that times out on every item
        # must not keep its run waiting forever); otherwise it is an outage and the item waits.
        if item.failures >= context.limits.max_attempts and (
            state.breaker.state == BreakerState.CLOSED
            or (failure.kind == FailureKind.TIMEOUT and await state.client.ready(READY_TIMEOUT))
        ):
            self._store(context, item, RecordStatus.ERROR, error=f"{failure.kind}: {failure.message}")
            return
        self._retry(context, item, item.failures)

    def _healthy(self, state: EndpointState) -> None:
        if state.breaker.state != BreakerState.CLOSED:
            self._metrics.breaker.labels(endpoint=state.address.label).set(0)
        state.breaker.record_success()
        if state.down_reason is not None:
            state.down_reason = None
            log.info("circuit closed", extra={"endpoint": state.address.label})
            self._endpoint_changed(set(state.runs), None)
            # Only the probe was in flight: every worker that found this endpoint closed to it waits.
            for pool in {self._runs[r].pool for r in state.runs if r in self._runs}:
                self._changed[pool].set()

    def _retry(self, context: RunContext, item: WorkItem, attempt: int) -> None:
        if self._stopping:
            return  # the chunk is released on stop; whoever takes it answers the item
        delay = backoff_delay(max(attempt, 1), self._config.retry_base, self._config.retry_max)

        def requeue() -> None:
            self._timers.discard(handle)
            if item.run_id in self._runs:
                self._queues[context.pool].push(item.run_id, item, group=context.team_id, front=True)
                self._changed[context.pool].set()

        handle = asyncio.get_running_loop().call_later(delay, requeue)
        self._timers.add(handle)

    def _store(self, context: RunContext, item: WorkItem, status: RecordStatus, **values: Any) -> None:
        now = self._clock.now()
        row: dict[str, Any] = {
            "run_id": item.run_id,
            "seq": item.seq,
            "item_id": item.item_id,
            "status": status,
            "text": None,
            "prompt_tokens": None,
            "completion_tokens": None,
            "error": None,
            "latency_ms": 0.0,
            "ttft_ms": None,
            "tokens_per_second": None,
            "attempts": item.attempts,
            "server_version": context.server_version,
            "model_version": context.model_version,
            "replica": self._replica,
            "started_at": item.started_at or now,
            "finished_at": now,
        }
        row.update(values)
        self._record(row)
        self._item_done(item)

    # -- reading ------------------------------------------------------------------------------

    def snapshot(self) -> ReplicaLoad:
        """Capacity, load and breaker states of this replica (for /v1/pools)."""
        now = asyncio.get_running_loop().time() if self._workers else 0.0
        return ReplicaLoad(
            pools={
                pool: PoolLoad(
                    capacity=self._config.pools[pool],
                    in_flight=self._pool_in_flight[pool],
                    queued=len(self._queues[pool]),
                    runs=len(self._queues[pool].keys()),
                )
                for pool in self._queues
            },
            endpoints={
                label: EndpointLoad(
                    breaker=state.breaker.state,
                    in_flight=state.in_flight,
                    capacity=state.capacity,
                    last_error=state.breaker.last_error,
                    probe_in=max(0.0, (state.breaker.retry_at() or now) - now),
                )
                for label, state in self._endpoints.items()
            },
        )


def _server_of(address: EndpointAddress) -> str:
    """What serves the endpoint, in a stuck-state message: the real cause, named as the team knows it."""
    if address.convention == ServingConvention.OPENAI_CHAT:
        return "OpenAI-compatible endpoint"
    return "Triton endpoint"
