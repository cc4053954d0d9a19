"""Kafka: InferenceRunRequested (scoring) -> a run; SubmissionRegistered (registry) -> a known endpoint."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.events.envelope import Envelope
from fmc_common.events.inference import GpuPool, InferenceRunRequested, RunEndpoint
from fmc_common.events.registry import SubmissionRegistered
from fmc_common.events.topics import Topic
from fmc_common.runtime import ConsumerSpec, ServiceRuntime
from fmc_gateway.endpoints import repository as endpoints
from fmc_gateway.runs import service


def intake(
    runtime: ServiceRuntime, hardware: Mapping[GpuPool, str], notify: Callable[[], None]
) -> ConsumerSpec:
    """One consumer group for both topics: every group a replica joins costs a rebalance at start."""

    async def run_requested(session: AsyncSession, envelope: Envelope, event: InferenceRunRequested) -> None:
        await service.accept_run(session, runtime.outbox, runtime.clock, hardware, event)
        notify()

    async def submission_registered(
        session: AsyncSession, envelope: Envelope, event: SubmissionRegistered
    ) -> None:
        raw = event.endpoint
        endpoint = RunEndpoint(
            url=raw.url,
            model_name=raw.model_name,
            model_version=raw.model_version,
            protocol=raw.protocol.lower(),
            gpu_pool=raw.gpu_pool.upper(),
        )
        await endpoints.upsert(
            session, endpoint, runtime.clock.now(), team_id=event.team_id, submission_id=event.submission_id
        )

    return ConsumerSpec(
        name="inference-gateway.intake",
        topics=[str(Topic.SCORING), str(Topic.REGISTRY)],
        handlers={InferenceRunRequested: run_requested, SubmissionRegistered: submission_registered},
    )
