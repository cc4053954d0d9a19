"""Kafka handlers: published results and reopened stages notify teams (thin adapters over the service)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.events.envelope import Envelope
from fmc_common.events.scoring import StageReopened, StageResultsPublished
from fmc_common.events.topics import Topic
from fmc_common.messaging.consumer import Handler
from fmc_common.runtime import ConsumerSpec, ServiceRuntime
from fmc_common.web.context import service_actor
from fmc_grievance.deps import context_of
from fmc_grievance.notifications import service


def consumer_spec(runtime: ServiceRuntime) -> ConsumerSpec:
    async def on_results_published(
        session: AsyncSession, envelope: Envelope, event: StageResultsPublished
    ) -> None:
        await service.on_results_published(context_of(runtime, session, service_actor("scoring")), event)

    async def on_stage_reopened(session: AsyncSession, envelope: Envelope, event: StageReopened) -> None:
        await service.on_stage_reopened(context_of(runtime, session, service_actor("scoring")), event)

    handlers: dict[type, Handler] = {
        StageResultsPublished: on_results_published,
        StageReopened: on_stage_reopened,
    }
    return ConsumerSpec(name="grievance.stage-results", topics=[Topic.SCORING], handlers=handlers)
