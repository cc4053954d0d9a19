"""Kafka handlers: the gateway's run completion -> read the responses, grade them (thin adapter)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.events.envelope import Envelope
from fmc_common.events.inference import InferenceRunCompleted, InferenceRunFailed
from fmc_common.events.topics import Topic
from fmc_common.messaging.consumer import Handler
from fmc_common.runtime import ConsumerSpec, ServiceRuntime
from fmc_common.web.context import context_for, service_actor
from fmc_scoring.grading import service
from fmc_scoring.grading.gateway import GatewayClient
from fmc_scoring.settings import ScoringSettings


def consumer_spec(runtime: ServiceRuntime, gateway: GatewayClient, rounds: int) -> ConsumerSpec:
    async def on_completed(session: AsyncSession, envelope: Envelope, event: InferenceRunCompleted) -> None:
        run = await service.run_to_grade(session, event.run_id)
        if run is None:
            return
        responses = await gateway.responses(event.run_id, event.responses_sha256)
        ctx = context_for(runtime, session, service_actor("inference-gateway"), ScoringSettings)
        await service.grade_completed(ctx, run, event, responses, rounds)

    async def on_failed(session: AsyncSession, envelope: Envelope, event: InferenceRunFailed) -> None:
        await service.record_failure(session, event)

    handlers: dict[type, Handler] = {InferenceRunCompleted: on_completed, InferenceRunFailed: on_failed}
    return ConsumerSpec(name="scoring.grading", topics=[Topic.GATEWAY], handlers=handlers)
