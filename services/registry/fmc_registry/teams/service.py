"""Team registration: one behaviour shared by REST and gRPC."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.clock import Clock
from fmc_common.errors import Conflict, NotFound
from fmc_common.events.registry import TeamRegistered
from fmc_common.messaging.outbox import Outbox
from fmc_registry.teams import repository
from fmc_registry.teams.models import Team, TeamStatus


class TeamNameTaken(Conflict):
    code = "team-name-taken"
    title = "A team with this name is already registered"


class TeamNotFound(NotFound):
    code = "team-not-found"
    title = "No such team"


async def register_team(
    session: AsyncSession, outbox: Outbox, clock: Clock, *, name: str, lead_organisation: str
) -> Team:
    if await repository.get_by_name(session, name) is not None:
        raise TeamNameTaken(f"a team named {name!r} is already registered")
    team = Team(
        id=uuid.uuid4(),
        name=name,
        lead_organisation=lead_organisation,
        status=TeamStatus.APPLICANT.value,
        registered_at=clock.now(),
    )
    repository.add(session, team)
    await session.flush()
    await outbox.add(
        session,
        TeamRegistered(
            team_id=team.id,
            name=team.name,
            lead_organisation=team.lead_organisation,
            registered_at=team.registered_at,
        ),
    )
    return team


async def get_team(session: AsyncSession, team_id: uuid.UUID) -> Team:
    team = await repository.get(session, team_id)
    if team is None:
        raise TeamNotFound(f"no team with id {team_id}")
    return team
