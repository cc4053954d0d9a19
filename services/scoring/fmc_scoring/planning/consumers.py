"""Kafka handlers: the registry's EvaluationStarted -> planned runs (thin adapter)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.events.envelope import Envelope
from fmc_common.events.registry import EvaluationStarted
from fmc_common.events.topics import Topic
from fmc_common.messaging.consumer import Handler
from fmc_common.runtime import ConsumerSpec, ServiceRuntime
from fmc_common.web.context import context_for, service_actor
from fmc_scoring.planning import service
from fmc_scoring.settings import ScoringSettings


def consumer_spec(runtime: ServiceRuntime, items_base_url: str) -> ConsumerSpec:
    async def on_evaluation_started(
        session: AsyncSession, envelope: Envelope, event: EvaluationStarted
    ) -> None:
        ctx = context_for(runtime, session, service_actor("registry"), ScoringSettings)
        await service.plan_evaluation(ctx, event, items_base_url)

    handlers: dict[type, Handler] = {EvaluationStarted: on_evaluation_started}
    return ConsumerSpec(name="scoring.planning", topics=[Topic.REGISTRY], handlers=handlers)
