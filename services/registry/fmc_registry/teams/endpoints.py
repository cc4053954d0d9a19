"""REST: /v1/teams."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status

from fmc_common.auth import Role
from fmc_common.errors import InvalidInput
from fmc_common.idempotency import IdempotencyStore, StoredResponse, request_hash
from fmc_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor
from fmc_common.web.deps import CurrentActor, OperatorOnly, SessionDep
from fmc_common.web.problems import problem_responses
from fmc_registry.base import PLATFORM
from fmc_registry.teams import repository, service
from fmc_registry.teams.schemas import TeamCreate, TeamOut, TeamPage

router = APIRouter(prefix="/v1/teams", tags=["teams"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TeamOut,
    responses=problem_responses(401, 403, 409, 422),
    summary="Register a team",
)
async def register_team(
    body: TeamCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    actor: OperatorOnly,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> TeamOut:
    """Register a team (a consortium led by an organisation). Operators only.

    Emits `TeamRegistered`. Send an `Idempotency-Key` header to make retries safe: the same key
    with the same body returns the first response; with another body it is refused (409).
    """
    runtime = request.app.state.runtime
    store = IdempotencyStore(PLATFORM, runtime.clock)
    scope = f"register-team:{actor.subject}"
    fingerprint = request_hash(body.model_dump())
    if idempotency_key is not None:
        stored = await store.lookup(session, scope, idempotency_key, fingerprint)
        if stored is not None:
            response.status_code = stored.status_code
            return TeamOut.model_validate(stored.body)
    team = await service.register_team(
        session, runtime.outbox, runtime.clock, name=body.name, lead_organisation=body.lead_organisation
    )
    out = TeamOut.model_validate(team)
    if idempotency_key is not None:
        await store.store(
            session, scope, idempotency_key, fingerprint, StoredResponse(201, out.model_dump(mode="json"))
        )
    return out


@router.get(
    "/{team_id}", response_model=TeamOut, responses=problem_responses(401, 403, 404), summary="One team"
)
async def get_team(team_id: uuid.UUID, session: SessionDep, actor: CurrentActor) -> TeamOut:
    """Operators and services see every team; a team sees itself."""
    if actor.role != Role.SERVICE:
        actor.require_team(team_id)
    return TeamOut.model_validate(await service.get_team(session, team_id))


@router.get("", response_model=TeamPage, responses=problem_responses(401, 403, 422), summary="List teams")
async def list_teams(
    session: SessionDep,
    actor: CurrentActor,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> TeamPage:
    """Teams in a stable order, a page at a time (operators and services)."""
    actor.require(Role.OPERATOR, Role.SERVICE)
    after_raw = decode_cursor(cursor)
    try:
        after = uuid.UUID(after_raw) if after_raw else None
    except ValueError as exc:
        raise InvalidInput("the cursor is not valid") from exc
    teams = await repository.page(session, after, limit + 1)
    has_more = len(teams) > limit
    teams = teams[:limit]
    return TeamPage(
        items=[TeamOut.model_validate(t) for t in teams],
        next_cursor=encode_cursor(str(teams[-1].id)) if has_more and teams else None,
    )
