"""REST: a suite's judge and a run's judgements (operators). A judge run's items are served with
every run's, at ``/v1/runs/{run_id}/items`` (planning). The judge's prompts hold reference
answers: never served to teams."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from fmc_common.web.problems import problem_responses
from fmc_scoring.deps import OperatorCtx
from fmc_scoring.judging import repository, service
from fmc_scoring.judging.schemas import JudgeIn, JudgementOut, JudgeOut

router = APIRouter(tags=["judging"])
JSONL = "application/x-ndjson"


@router.put(
    "/v1/suites/{suite_id}/judge",
    response_model=JudgeOut,
    responses=problem_responses(401, 403, 404, 422),
    summary="Set a judged suite's judge",
)
async def set_judge(suite_id: uuid.UUID, body: JudgeIn, ctx: OperatorCtx) -> JudgeOut:
    """The judge of a suite of kind `judged` (operators): its endpoint (model version pinned), mode
    (`single`: a 1-10 rating; `pairwise`: against the reference answer, asked in both orders), prompt
    template and rubric. A change makes a new revision (audited); runs judged already keep theirs.
    The same judge again returns the revision in force. Refused for another kind (`suite-not-judged`)."""
    template, version = body.template_text()
    judge = await service.set_judge(
        ctx,
        suite_id,
        body.mode,
        body.endpoint,
        template,
        version,
        body.rubric,
        body.max_tokens,
        body.max_attempts,
    )
    return JudgeOut.model_validate(judge)


@router.get(
    "/v1/suites/{suite_id}/judge",
    response_model=JudgeOut,
    responses=problem_responses(401, 403, 404, 409),
    summary="A judged suite's judge in force",
)
async def get_judge(suite_id: uuid.UUID, ctx: OperatorCtx) -> JudgeOut:
    """The judge revision in force (operators); `judge-not-set` (409) if none."""
    return JudgeOut.model_validate(await service.get_judge(ctx.session, suite_id))


@router.get(
    "/v1/runs/{run_id}/judgements",
    response_model=list[JudgementOut],
    responses=problem_responses(401, 403, 404),
    summary="A run's judgements",
)
async def judgements(run_id: uuid.UUID, ctx: OperatorCtx) -> list[JudgementOut]:
    """Every judgement of a team run of a judged suite, each attempt kept: the judge's raw output,
    the rating or pairwise outcome read from it, `parsed` false when none could be (operators).
    Empty for a run that was not judged."""
    return [JudgementOut.model_validate(row) for row in await repository.judgements(ctx.session, run_id)]
