"""REST: stage results. Operators propose, read every version and approve; a team reads its own
published figures; anyone reads the public outcome (names, advanced/eliminated, reason category)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Path, Response, status

from fmc_common.errors import NotFound
from fmc_common.idempotency import StoredResponses, once
from fmc_common.web.problems import problem_responses
from fmc_scoring.base import PLATFORM
from fmc_scoring.deps import ActorCtx, AnyoneCtx, OperatorCtx
from fmc_scoring.results import feedback, finality, lifecycle, repository, service, views
from fmc_scoring.results.originality_gate import LatestCheckVerdicts
from fmc_scoring.results.schemas import (
    FeedbackIn,
    FeedbackOut,
    OperatorResultOut,
    PublicResultOut,
    ReopenIn,
    ReopeningOut,
    TeamOwnResultOut,
)

router = APIRouter(tags=["results"])
Version = Annotated[int, Path(ge=1, le=1_000_000)]


@router.post(
    "/v1/stages/{stage_id}/results",
    status_code=status.HTTP_201_CREATED,
    response_model=OperatorResultOut,
    responses=problem_responses(401, 403, 404, 409),
    summary="Propose a result",
)
async def propose(stage_id: uuid.UUID, ctx: OperatorCtx) -> OperatorResultOut:
    """Compute a new result version from the stage's current evidence (operators): gates
    (originality, benchmark threshold), part scores, composite, ranking with the tie-break, and every
    team's proposed outcome with its reason, plus the vacancies. Earlier proposals are superseded;
    `blocking` lists what prevents approval (pending gates, missing parts). Refused with
    `stage-final` once the stage is final (reopen it first), and with `arena-votes-insufficient`
    (409, `models`: each model short of votes with its count, `min_votes`) while the user part has
    a weight and a model has fewer counted arena votes than the criteria's `arena_min_votes`."""
    result = await service.propose_result(
        ctx, stage_id, LatestCheckVerdicts(), ctx.settings.arena_bootstrap_rounds
    )
    return await views.operator_view(ctx.session, result)


@router.get(
    "/v1/stages/{stage_id}/results",
    response_model=list[OperatorResultOut],
    responses=problem_responses(401, 403),
    summary="Every result version",
)
async def list_versions(stage_id: uuid.UUID, ctx: OperatorCtx) -> list[OperatorResultOut]:
    """All versions of the stage's result, oldest first, superseded ones included (operators)."""
    return [
        await views.operator_view(ctx.session, r) for r in await repository.versions(ctx.session, stage_id)
    ]


@router.get(
    "/v1/stages/{stage_id}/results/{version}",
    response_model=OperatorResultOut,
    responses=problem_responses(401, 403, 404, 422),
    summary="One result version",
)
async def get_version(stage_id: uuid.UUID, version: Version, ctx: OperatorCtx) -> OperatorResultOut:
    """One version in full, with the inputs of every figure (operators)."""
    return await views.operator_view(ctx.session, await service.get_version(ctx.session, stage_id, version))


@router.post(
    "/v1/stages/{stage_id}/results/{version}/approval",
    response_model=OperatorResultOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Approve and publish a result",
)
async def approve(stage_id: uuid.UUID, version: Version, ctx: OperatorCtx) -> OperatorResultOut:
    """Approve the latest proposed version and publish it (operators): outcomes to the services
    (`StageResultsPublished`, which opens the objection windows), every figure on the internal
    topic, and on the public topic the team names with advanced/eliminated and the reason category
    only. Refused with `result-blocked` while questions are open, `result-superseded` for an older
    version, `result-not-proposed` for one already decided (also the loser of two approvals at
    once), `stage-final` once the stage is final. Completes a finalisation that awaited it."""
    return await views.operator_view(ctx.session, await service.approve(ctx, stage_id, version))


@router.post(
    "/v1/stages/{stage_id}/results/reopen",
    status_code=status.HTTP_201_CREATED,
    response_model=ReopeningOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Reopen a final stage for a correction",
)
async def reopen(
    stage_id: uuid.UUID,
    body: ReopenIn,
    ctx: OperatorCtx,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> ReopeningOut:
    """Reopen a final stage so that its result can be corrected (operators, with a reason; audited).

    Only a final stage (`stage-not-final` otherwise). Every team gets a fresh objection window of the
    stage's length (`StageReopened` to grievance, with the outcomes in force); partners learn that the
    stage is reopened (`StageReopenedAnnounced`, without the reason). Proposing and approving work
    again; the next closing of the windows finalises the stage anew. Send an `Idempotency-Key` header
    to make retries safe."""

    async def run() -> ReopeningOut:
        reopening = await lifecycle.reopen(ctx, stage_id, body.reason)
        return ReopeningOut(
            reopening_id=reopening.id,
            stage_id=reopening.stage_id,
            version=reopening.version,
            reason=reopening.reason,
            reopened_by=reopening.reopened_by,
            reopened_at=reopening.reopened_at,
        )

    responses = StoredResponses(
        ctx.session, PLATFORM, ctx.clock, operation="stage-reopen", caller=ctx.actor, model=ReopeningOut
    )
    payload = {"stage_id": str(stage_id)} | body.model_dump(mode="json")
    return await once(responses, idempotency_key, payload, run)


@router.get(
    "/v1/stages/{stage_id}/teams/{team_id}/result",
    response_model=TeamOwnResultOut,
    responses=problem_responses(401, 403, 404),
    summary="A team's own result",
)
async def team_result(stage_id: uuid.UUID, team_id: uuid.UUID, ctx: ActorCtx) -> TeamOwnResultOut:
    """The team's own figures in the published version: outcome and reason, composite, parts,
    per-suite accuracy with its interval, and links to the inputs (run ids, expert score ids, vote
    count). The team itself and operators only; never a position, never another team."""
    ctx.actor.require_team(team_id)
    result = await service.published(ctx.session, stage_id)
    row = await repository.team_row(ctx.session, result.id, team_id)
    if row is None:
        raise NotFound(f"team {team_id} has no result in stage {stage_id}")
    return views.team_view(result, row, final=await finality.is_final(ctx.session, stage_id))


@router.get(
    "/v1/public/stages/{stage_id}/results",
    response_model=PublicResultOut,
    responses=problem_responses(401, 404),
    summary="Public outcome of a stage",
)
async def public_result(stage_id: uuid.UUID, ctx: AnyoneCtx) -> PublicResultOut:
    """Anyone, without a token: who advances and who is eliminated, and why (benchmark-threshold,
    originality or rank), whether the stage is final, and for a correction which version it
    corrected and the category of its cause. No score, no rank, no figure of any kind."""
    return await views.public_view(ctx.session, await service.published(ctx.session, stage_id))


@router.post(
    "/v1/stages/{stage_id}/results/{version}/feedback",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedbackOut,
    responses={
        200: {"model": FeedbackOut, "description": "The same text again: the feedback as it stands"},
        **problem_responses(401, 403, 404, 422),
    },
    summary="Write feedback to a team",
)
async def write_feedback(
    stage_id: uuid.UUID, version: Version, body: FeedbackIn, ctx: OperatorCtx, response: Response
) -> FeedbackOut:
    """Written feedback to one team on one result version (operators), shown to that team only, once
    the version is published. Writing again adds a revision (earlier ones are kept and audited); the
    text the latest revision already holds adds nothing (200). `result-not-found` (404) for an unknown
    version, `team-not-in-result` (404) for a team the version does not list."""
    written, created = await feedback.write(ctx, stage_id, version, body.team_id, body.text)
    if not created:
        response.status_code = status.HTTP_200_OK
    return feedback.out(written, await service.get_version(ctx.session, stage_id, version))


@router.get(
    "/v1/stages/{stage_id}/teams/{team_id}/feedback",
    response_model=list[FeedbackOut],
    responses=problem_responses(401, 403, 404),
    summary="A team's own written feedback",
)
async def team_feedback(stage_id: uuid.UUID, team_id: uuid.UUID, ctx: ActorCtx) -> list[FeedbackOut]:
    """The latest feedback of each result version to the team, oldest version first. The team itself
    sees only published versions' (`result-not-published`, 404, before the stage's first publication);
    operators see every version's. Never another team's."""
    return await feedback.of_team(ctx, stage_id, team_id)
