"""Recording teams from the registry's events; reading them back."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.clock import Clock
from fmc_common.correlation import current_correlation_id
from fmc_common.errors import NotFound
from fmc_common.events.registry import TeamRegistered
from fmc_grievance.participants.models import Participant


class ParticipantNotFound(NotFound):
    code = "participant-not-found"
    title = "No such team in grievance"


async def record_team(session: AsyncSession, clock: Clock, event: TeamRegistered) -> Participant:
    """Upsert: a second registration event for the same team updates, never duplicates."""
    participant = await session.get(Participant, event.team_id)
    if participant is None:
        participant = Participant(team_id=event.team_id, recorded_at=clock.now())
        session.add(participant)
    participant.name = event.name
    participant.lead_organisation = event.lead_organisation
    participant.correlation_id = current_correlation_id()
    await session.flush()
    return participant


async def get_participant(session: AsyncSession, team_id: uuid.UUID) -> Participant:
    participant = await session.get(Participant, team_id)
    if participant is None:
        raise ParticipantNotFound(f"grievance has no record of team {team_id}")
    return participant
