"""After an endpoint recovers, closing its breaker wakes every waiting worker (real Triton, TCP proxy)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from fmc_common.clock import SystemClock
from fmc_common.events.inference import DecodingParameters, GpuPool, InferenceProtocol, RunLimits
from fmc_devrunner.triton import TritonProcess
from fmc_gateway.runs.executor import Executor, ExecutorConfig, RunContext, WorkItem
from fmc_gateway.runs.metrics import GatewayMetrics
from fmc_gateway.triton.inference import EndpointAddress
from support.eventually import eventually
from support.proxy import TcpProxy

pytestmark = [pytest.mark.triton]


@pytest.fixture
async def proxy(triton: TritonProcess) -> AsyncIterator[TcpProxy]:
    host, port = triton.grpc_url.rsplit(":", 1)
    proxy = TcpProxy(host, int(port))
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()


def context(proxy: TcpProxy, run_id: uuid.UUID) -> RunContext:
    return RunContext(
        run_id=run_id,
        pool=GpuPool.H100,
        endpoint=EndpointAddress(f"127.0.0.1:{proxy.port}", InferenceProtocol.GRPC, "misbehaving-lm"),
        datatypes={"prompt": "BYTES"},
        batched=False,
        decoding=DecodingParameters(max_tokens=4),
        limits=RunLimits(request_timeout_seconds=10, max_attempts=3),
        server_version="",
        model_version="",
    )


class TestRecovery:
    async def test_closing_the_breaker_lets_every_waiting_worker_send_again(self, proxy: TcpProxy) -> None:
        records: list[dict[str, Any]] = []
        # Retries far away: only the breaker closing can wake the workers in this test.
        executor = Executor(
            config=ExecutorConfig(
                pools={GpuPool.H100: 8},
                endpoint_capacity=8,
                breaker_threshold=1,
                breaker_reset=0.2,
                retry_base=600,
                retry_max=600,
            ),
            clock=SystemClock(),
            replica="test",
            metrics=GatewayMetrics(CollectorRegistry()),
            record=records.append,
            item_done=lambda item: None,
            endpoint_changed=lambda runs, reason: None,
        )
        lost, run = uuid.uuid4(), uuid.uuid4()
        executor.add_run(context(proxy, lost))
        executor.add_run(context(proxy, run))
        executor.start()
        try:
            await proxy.cut()
            executor.submit([WorkItem(lost, 0, 0, "lost", "plain lost")])
            label = context(proxy, run).endpoint.label

            async def opened() -> bool:
                return executor.snapshot().endpoints[label].breaker == "open"

            await eventually(opened, timeout=10, what="the breaker to open")
            executor.forget_run(lost)  # its retry (far away) wakes nobody
            await proxy.restore()
            executor.submit([WorkItem(run, 0, i, f"item-{i}", "sleep 0.5") for i in range(16)])

            most = 0
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 4.0
            while loop.time() < deadline and len(records) < 16:
                most = max(most, executor.snapshot().endpoints[label].in_flight)
                await asyncio.sleep(0.02)

            assert most >= 4, f"at most {most} request(s) in flight after the endpoint recovered"
        finally:
            await executor.stop(grace=2.0)
