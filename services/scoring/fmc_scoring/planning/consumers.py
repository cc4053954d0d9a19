"""Kafka handlers: the registry's EvaluationStarted -> planned runs (thin adapter)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.clock import Clock
from fmc_common.events.envelope import Envelope
from fmc_common.events.registry import EvaluationStarted
from fmc_common.events.topics import Topic
from fmc_common.messaging.consumer import Handler
from fmc_common.messaging.outbox import Outbox
from fmc_common.runtime import ConsumerSpec
from fmc_scoring.context import Ctx, service_actor
from fmc_scoring.planning import service


def consumer_spec(outbox: Outbox, clock: Clock, items_base_url: str) -> ConsumerSpec:
    async def on_evaluation_started(
        session: AsyncSession, envelope: Envelope, event: EvaluationStarted
    ) -> None:
        ctx = Ctx(session=session, outbox=outbox, clock=clock, actor=service_actor("registry"))
        await service.plan_evaluation(ctx, event, items_base_url)

    handlers: dict[type, Handler] = {EvaluationStarted: on_evaluation_started}
    return ConsumerSpec(name="scoring.planning", topics=[Topic.REGISTRY], handlers=handlers)
