"""Kafka handlers: thin adapters over the participant service."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.clock import Clock
from fmc_common.events.envelope import Envelope
from fmc_common.events.registry import TeamRegistered
from fmc_common.events.topics import Topic
from fmc_common.messaging.consumer import Handler
from fmc_common.runtime import ConsumerSpec
from fmc_scoring.participants import service


def consumer_spec(clock: Clock) -> ConsumerSpec:
    async def on_team_registered(session: AsyncSession, envelope: Envelope, event: TeamRegistered) -> None:
        await service.record_team(session, clock, event)

    handlers: dict[type, Handler] = {TeamRegistered: on_team_registered}
    return ConsumerSpec(name="scoring.participants", topics=[Topic.REGISTRY], handlers=handlers)
