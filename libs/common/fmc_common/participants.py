"""The participants read model: teams as a service knows them, recorded from the registry's events.

Scoring and grievance each keep the table in their own database (same name and columns, declared on
their own ``Base`` with ``ParticipantColumns``) and bind the rest once::

    class Participant(ParticipantColumns, Base):
        __tablename__ = "participants"

    participants = Participants(Participant, service="scoring")

``participants.consumer_spec(clock)`` records ``TeamRegistered``; ``participants.router()`` serves
``GET /v1/participants/{team_id}``; ``participants.for_call(runtime, context, team_id)`` answers the
gRPC ``GetParticipant`` (each service wraps the row in its own message).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from sqlalchemy import String, Uuid
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.auth import Role
from fmc_common.clock import Clock
from fmc_common.correlation import current_correlation_id
from fmc_common.db import UtcDateTime, transaction
from fmc_common.errors import AppError, NotFound
from fmc_common.events.envelope import Envelope
from fmc_common.events.registry import TeamRegistered
from fmc_common.events.topics import Topic
from fmc_common.grpc_calls import parse_uuid
from fmc_common.grpc_support import ServicerContext, abort_with, authorize
from fmc_common.messaging.consumer import Handler
from fmc_common.runtime import ConsumerSpec, ServiceRuntime
from fmc_common.web.deps import CurrentActor, SessionDep
from fmc_common.web.problems import problem_responses


class ParticipantColumns:
    """A team recorded from ``TeamRegistered``; ``correlation_id`` ties it to the request that caused it."""

    team_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    lead_organisation: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    correlation_id: Mapped[str | None] = mapped_column(String(128), nullable=True)

    if TYPE_CHECKING:
        # The declarative constructor the mapped subclass gets (the mixin declares none of its own).
        def __init__(self, **columns: Any) -> None: ...


class ParticipantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    team_id: uuid.UUID
    name: str
    lead_organisation: str
    recorded_at: datetime
    correlation_id: str | None


class ParticipantNotFound(NotFound):
    code = "participant-not-found"
    title = "No such team"


P = TypeVar("P", bound=ParticipantColumns)


class Participants(Generic[P]):
    """One service's participants: record, read, and the REST, gRPC and Kafka adapters over them."""

    def __init__(self, model: type[P], *, service: str) -> None:
        self.model = model
        self.service = service
        # The problem's title names the service, as each service's own error class did.
        self.not_found = cast(
            type[ParticipantNotFound],
            type("ParticipantNotFound", (ParticipantNotFound,), {"title": f"No such team in {service}"}),
        )

    async def record_team(self, session: AsyncSession, clock: Clock, event: TeamRegistered) -> P:
        """Upsert: a second registration event for the same team updates, never duplicates."""
        participant = await session.get(self.model, event.team_id)
        if participant is None:
            participant = self.model(team_id=event.team_id, recorded_at=clock.now())
            session.add(participant)
        participant.name = event.name
        participant.lead_organisation = event.lead_organisation
        participant.correlation_id = current_correlation_id()
        await session.flush()
        return participant

    async def get(self, session: AsyncSession, team_id: uuid.UUID) -> P:
        participant = await session.get(self.model, team_id)
        if participant is None:
            raise self.not_found(f"{self.service} has no record of team {team_id}")
        return participant

    def consumer_spec(self, clock: Clock) -> ConsumerSpec:
        async def on_team_registered(
            session: AsyncSession, envelope: Envelope, event: TeamRegistered
        ) -> None:
            await self.record_team(session, clock, event)

        handlers: dict[type, Handler] = {TeamRegistered: on_team_registered}
        return ConsumerSpec(name=f"{self.service}.participants", topics=[Topic.REGISTRY], handlers=handlers)

    def router(self) -> APIRouter:
        router = APIRouter(prefix="/v1/participants", tags=["participants"])

        @router.get(
            "/{team_id}",
            response_model=ParticipantOut,
            responses=problem_responses(401, 403, 404),
            summary=f"A team as {self.service} recorded it",
        )
        async def get_participant(
            team_id: uuid.UUID, session: SessionDep, actor: CurrentActor
        ) -> ParticipantOut:
            """Operators and services see every team; a team sees itself."""
            if actor.role != Role.SERVICE:
                actor.require_team(team_id)
            return ParticipantOut.model_validate(await self.get(session, team_id))

        return router

    async def for_call(self, runtime: ServiceRuntime, context: ServicerContext, team_id: str) -> P:
        """The participant a gRPC caller asked for (operators, services, the team itself); else abort."""
        actor = await authorize(context, runtime.verifier, Role.OPERATOR, Role.SERVICE, Role.TEAM)
        try:
            wanted = parse_uuid(team_id, "team_id")
            if actor.role == Role.TEAM:
                actor.require_team(wanted)
            async with transaction(runtime.sessions) as session:
                return await self.get(session, wanted)
        except AppError as error:
            await abort_with(context, error)
            raise
