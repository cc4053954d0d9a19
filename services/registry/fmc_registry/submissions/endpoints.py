"""REST: submissions and statements of a team for a stage; starting a stage's evaluation."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, status

from fmc_common.auth import Role
from fmc_common.idempotency import StoredResponses, once
from fmc_common.web.problems import problem_responses
from fmc_registry.base import PLATFORM
from fmc_registry.deps import ActorCtx, OperatorCtx
from fmc_registry.submissions import service
from fmc_registry.submissions.models import Submission
from fmc_registry.submissions.schemas import (
    EvaluationInput,
    StatementCreate,
    StatementOut,
    SubmissionCreate,
    SubmissionOut,
)

router = APIRouter(tags=["submissions"])


def out(submission: Submission) -> SubmissionOut:
    return SubmissionOut.model_validate(service.submission_view(submission))


@router.post(
    "/v1/stages/{stage_id}/teams/{team_id}/submissions",
    status_code=status.HTTP_201_CREATED,
    response_model=SubmissionOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Submit a model for a stage",
)
async def register_submission(
    stage_id: uuid.UUID,
    team_id: uuid.UUID,
    body: SubmissionCreate,
    ctx: ActorCtx,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> SubmissionOut:
    """A new version of the team's model: Triton endpoint, weights manifest, model card.

    The team itself (or an operator). Refused with `submission-window-closed` once the stage's
    evaluation has started, with `stage-not-open` before it opens. Emits `SubmissionRegistered`.
    """
    ctx.actor.require(Role.OPERATOR, Role.TEAM).require_team(team_id)

    async def run() -> SubmissionOut:
        return out(await service.register_submission(ctx, stage_id, team_id, body))

    payload = {"stage_id": str(stage_id), "team_id": str(team_id), "body": body.model_dump(mode="json")}
    responses = StoredResponses(
        ctx.session,
        PLATFORM,
        ctx.clock,
        operation="register-submission",
        caller=ctx.actor,
        model=SubmissionOut,
    )
    return await once(responses, idempotency_key, payload, run)


@router.get(
    "/v1/stages/{stage_id}/submissions",
    response_model=list[SubmissionOut],
    responses=problem_responses(401, 403, 404, 422),
    summary="Submissions for a stage",
)
async def list_submissions(
    stage_id: uuid.UUID, ctx: ActorCtx, team_id: uuid.UUID | None = None
) -> list[SubmissionOut]:
    """Every version, by team. Operators and services see all; a team sees only its own."""
    ctx.actor.require(Role.OPERATOR, Role.SERVICE, Role.TEAM)
    if ctx.actor.role == Role.TEAM:
        team_id = ctx.actor.team_id
    return [out(s) for s in await service.of_stage(ctx, stage_id, team_id)]


@router.get(
    "/v1/submissions/{submission_id}",
    response_model=SubmissionOut,
    responses=problem_responses(401, 403, 404),
    summary="One submission",
)
async def get_submission(submission_id: uuid.UUID, ctx: ActorCtx) -> SubmissionOut:
    """Operators and services; a team reads its own."""
    ctx.actor.require(Role.OPERATOR, Role.SERVICE, Role.TEAM)
    submission = await service.get_submission(ctx, submission_id)
    if ctx.actor.role == Role.TEAM:
        ctx.actor.require_team(submission.team_id)
    return out(submission)


@router.post(
    "/v1/stages/{stage_id}/teams/{team_id}/statements",
    status_code=status.HTTP_201_CREATED,
    response_model=StatementOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Send an explanatory statement",
)
async def record_statement(
    stage_id: uuid.UUID, team_id: uuid.UUID, body: StatementCreate, ctx: ActorCtx
) -> StatementOut:
    """The team itself (or an operator). Always recorded; once the evaluation has begun it is
    flagged `late` and is never part of the evaluation inputs."""
    ctx.actor.require(Role.OPERATOR, Role.TEAM).require_team(team_id)
    return StatementOut.model_validate(await service.record_statement(ctx, stage_id, team_id, body.text))


@router.get(
    "/v1/stages/{stage_id}/statements",
    response_model=list[StatementOut],
    responses=problem_responses(401, 403, 404, 422),
    summary="Statements sent for a stage",
)
async def list_statements(
    stage_id: uuid.UUID, ctx: ActorCtx, team_id: uuid.UUID | None = None
) -> list[StatementOut]:
    """Operators see all; a team sees its own."""
    ctx.actor.require(Role.OPERATOR, Role.TEAM)
    if ctx.actor.role == Role.TEAM:
        team_id = ctx.actor.team_id
    return [StatementOut.model_validate(s) for s in await service.statements_of(ctx, stage_id, team_id)]


@router.post(
    "/v1/stages/{stage_id}/evaluation",
    response_model=list[EvaluationInput],
    responses=problem_responses(401, 403, 404, 409),
    summary="Start the evaluation of a stage",
)
async def start_evaluation(stage_id: uuid.UUID, ctx: OperatorCtx) -> list[EvaluationInput]:
    """Operators. Freezes each team's latest submission and emits `EvaluationStarted` with them;
    later submissions are refused and later statements are recorded as late."""
    frozen = await service.start_evaluation(ctx, stage_id, "evaluation started by an operator")
    return [EvaluationInput.model_validate(service.frozen_input(s).model_dump()) for s in frozen]


@router.get(
    "/v1/stages/{stage_id}/evaluation-inputs",
    response_model=list[EvaluationInput],
    responses=problem_responses(401, 403, 404),
    summary="What the evaluation of a stage runs on",
)
async def evaluation_inputs(stage_id: uuid.UUID, ctx: ActorCtx) -> list[EvaluationInput]:
    """The submissions frozen when the evaluation started (operators and services). Statements are
    never inputs."""
    ctx.actor.require(Role.OPERATOR, Role.SERVICE)
    return [
        EvaluationInput.model_validate(service.frozen_input(s).model_dump())
        for s in await service.evaluation_inputs(ctx, stage_id)
    ]
