"""REST: /v1/participants."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from fmc_common.auth import Role
from fmc_common.web.deps import CurrentActor, SessionDep
from fmc_common.web.problems import problem_responses
from fmc_scoring.participants import service
from fmc_scoring.participants.schemas import ParticipantOut

router = APIRouter(prefix="/v1/participants", tags=["participants"])


@router.get(
    "/{team_id}",
    response_model=ParticipantOut,
    responses=problem_responses(401, 403, 404),
    summary="A team as scoring recorded it",
)
async def get_participant(team_id: uuid.UUID, session: SessionDep, actor: CurrentActor) -> ParticipantOut:
    """Operators and services see every team; a team sees itself."""
    if actor.role != Role.SERVICE:
        actor.require_team(team_id)
    return ParticipantOut.model_validate(await service.get_participant(session, team_id))
