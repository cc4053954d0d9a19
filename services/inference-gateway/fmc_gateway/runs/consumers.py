"""Kafka: InferenceRunRequested v1 or v2 (scoring) -> a run."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.events.envelope import Envelope
from fmc_common.events.inference import GpuPool, RunRequest
from fmc_common.messaging.consumer import Handler
from fmc_common.runtime import ServiceRuntime
from fmc_gateway.runs import service
from fmc_gateway.runs.sources import ItemsSources
from fmc_gateway.triton.hosts import TritonHosts


def run_requested(
    runtime: ServiceRuntime,
    hardware: Mapping[GpuPool, str],
    sources: ItemsSources,
    hosts: TritonHosts,
    notify: Callable[[], None],
) -> Handler:
    async def handle(session: AsyncSession, envelope: Envelope, event: RunRequest) -> None:
        # A refused items reference, endpoint or chat template (uri-not-allowed, unknown-chat-template,
        # a 422) is dead-lettered by the runner as handler-rejected.
        await service.accept_run(session, runtime.outbox, runtime.clock, hardware, sources, hosts, event)
        notify()

    return handle
