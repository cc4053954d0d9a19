"""Operators' aliases of teams for the arena's identity rules (REST and logic, audited).

A model may call itself by a name the registry does not know: the Korean spelling of its maker
("업스테이지"), a spelled-out name ("Kay Tee"), its model's brand ("Solar"). Operators add such
names to a team; every later vote is screened against them (arena/identity.py). Adding and
removing an alias are audited like the arena's other operator actions; votes already recorded
keep the verdict they got.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from fmc_common.errors import Conflict, InvalidInput, NotFound
from fmc_common.inputs import QueryText
from fmc_common.web.problems import problem_responses
from fmc_scoring.arena import repository
from fmc_scoring.arena.identity import MIN_TERM, TermKind, normal_form
from fmc_scoring.arena.models import TeamAlias
from fmc_scoring.arena.schemas import AliasIn, AliasOut
from fmc_scoring.audit import service as audit
from fmc_scoring.deps import OperatorCtx, ScoringCtx
from fmc_scoring.participants.models import Participant

router = APIRouter(tags=["arena"])


class AliasTeamUnknown(NotFound):
    code = "team-not-found"
    title = "No such team in scoring"


class AliasNotFound(NotFound):
    code = "alias-not-found"
    title = "The team has no such alias"


class AliasExists(Conflict):
    code = "alias-exists"
    title = "The team already has this alias (as compared)"


class AliasTooShort(InvalidInput):
    code = "alias-too-short"
    title = "An alias needs at least two letters or digits once normalised"


class AliasTooLong(InvalidInput):
    code = "alias-too-long"
    title = "An alias may not exceed 200 characters once normalised"


MAX_NORMALISED = 200  # the column; NFKC may lengthen a text (one ligature can become 18 letters)


async def _team(ctx: ScoringCtx, team_id: uuid.UUID) -> Participant:
    team = await ctx.session.get(Participant, team_id)
    if team is None:
        raise AliasTeamUnknown(f"scoring has no record of team {team_id}")
    return team


async def add_alias(
    ctx: ScoringCtx, team_id: uuid.UUID, alias: str, kind: TermKind, reason: str
) -> TeamAlias:
    await _team(ctx, team_id)
    normalised = normal_form(alias)
    if len(normalised.replace(" ", "")) < MIN_TERM:
        raise AliasTooShort(f"{alias!r} keeps fewer than {MIN_TERM} letters or digits", normalised=normalised)
    if len(normalised) > MAX_NORMALISED:
        raise AliasTooLong(f"{alias!r} normalises to {len(normalised)} characters")
    if await repository.alias_named(ctx.session, team_id, normalised) is not None:
        raise AliasExists(f"team {team_id} already has the alias {normalised!r}", normalised=normalised)
    row = TeamAlias(
        id=uuid.uuid4(),
        team_id=team_id,
        alias=alias,
        normalised=normalised,
        kind=kind,
        added_by=ctx.actor.subject,
        added_at=ctx.clock.now(),
    )
    ctx.session.add(row)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="arena.alias-added",
        entity_type="team",
        entity_id=team_id,
        reason=reason,
        details={"alias_id": str(row.id), "alias": alias, "normalised": normalised, "kind": kind.value},
    )
    return row


async def remove_alias(ctx: ScoringCtx, team_id: uuid.UUID, alias_id: uuid.UUID, reason: str) -> None:
    row = await ctx.session.get(TeamAlias, alias_id)
    if row is None or row.team_id != team_id:
        raise AliasNotFound(f"team {team_id} has no alias {alias_id}")
    details = {
        "alias_id": str(row.id),
        "alias": row.alias,
        "normalised": row.normalised,
        "kind": row.kind.value,
    }
    await ctx.session.delete(row)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="arena.alias-removed",
        entity_type="team",
        entity_id=team_id,
        reason=reason,
        details=details,
    )


def _out(row: TeamAlias) -> AliasOut:
    return AliasOut(
        alias_id=row.id,
        team_id=row.team_id,
        alias=row.alias,
        normalised=row.normalised,
        kind=row.kind,
        added_by=row.added_by,
        added_at=row.added_at,
    )


@router.post(
    "/v1/teams/{team_id}/arena/aliases",
    status_code=status.HTTP_201_CREATED,
    response_model=AliasOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Add a team alias",
)
async def create_alias(team_id: uuid.UUID, body: AliasIn, ctx: OperatorCtx) -> AliasOut:
    """Another name the team's model may call itself by (operators; audited with the reason). Later
    votes whose prompt or answers name it as a whole word are discarded. Unknown team:
    `team-not-found` (404); the same alias once normalised: `alias-exists` (409); fewer than two
    letters or digits: `alias-too-short` (422), more than 200 once normalised: `alias-too-long` (422)."""
    return _out(await add_alias(ctx, team_id, body.alias, body.kind, body.reason))


@router.get(
    "/v1/teams/{team_id}/arena/aliases",
    response_model=list[AliasOut],
    responses=problem_responses(401, 403),
    summary="List a team's aliases",
)
async def list_aliases(team_id: uuid.UUID, ctx: OperatorCtx) -> list[AliasOut]:
    """The team's aliases, oldest first (operators only: a model's name may be confidential)."""
    return [_out(row) for row in await repository.aliases(ctx.session, team_id)]


@router.delete(
    "/v1/teams/{team_id}/arena/aliases/{alias_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422),
    summary="Remove a team alias",
)
async def delete_alias(
    team_id: uuid.UUID,
    alias_id: uuid.UUID,
    ctx: OperatorCtx,
    reason: Annotated[QueryText, Query(min_length=1, max_length=2000)],
) -> None:
    """Stop looking for the alias in later votes (operators; audited with the reason). Votes
    already discarded for it stay as they are. Unknown alias: `alias-not-found` (404)."""
    await remove_alias(ctx, team_id, alias_id, reason)
