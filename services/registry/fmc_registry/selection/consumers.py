"""Kafka handlers of the registry: thin adapters over the selection service."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.clock import Clock
from fmc_common.events.envelope import Envelope
from fmc_common.events.scoring import StageFinalized, StageResultsPublished
from fmc_common.events.topics import Topic
from fmc_common.messaging.consumer import Handler
from fmc_common.messaging.outbox import Outbox
from fmc_common.runtime import ConsumerSpec
from fmc_registry.context import Ctx, service_actor
from fmc_registry.selection import service


def consumer_spec(outbox: Outbox, clock: Clock) -> ConsumerSpec:
    async def on_stage_finalized(session: AsyncSession, envelope: Envelope, event: StageFinalized) -> None:
        ctx = Ctx(session=session, outbox=outbox, clock=clock, actor=service_actor("scoring"))
        await service.on_stage_finalized(ctx, event)

    async def on_results_published(
        session: AsyncSession, envelope: Envelope, event: StageResultsPublished
    ) -> None:
        ctx = Ctx(session=session, outbox=outbox, clock=clock, actor=service_actor("scoring"))
        await service.on_results_published(ctx, event)

    handlers: dict[type, Handler] = {
        StageFinalized: on_stage_finalized,
        StageResultsPublished: on_results_published,
    }
    return ConsumerSpec(name="registry.stage-results", topics=[Topic.SCORING], handlers=handlers)
