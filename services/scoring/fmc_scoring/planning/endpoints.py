"""REST: a run's items for the gateway (prompts only), and a stage's planned runs for operators."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from fmc_common.auth import Role
from fmc_common.web.problems import problem_responses
from fmc_scoring.criteria import service as criteria_service
from fmc_scoring.deps import ActorCtx, OperatorCtx
from fmc_scoring.planning import repository, service
from fmc_scoring.planning.schemas import PlannedRunOut

router = APIRouter(tags=["planning"])
JSONL = "application/x-ndjson"


@router.get(
    "/v1/runs/{run_id}/items",
    response_class=Response,
    responses={
        200: {"content": {JSONL: {}}, "description": "JSON Lines"},
        **problem_responses(401, 403, 404),
    },
    summary="A run's items (prompts only)",
)
async def run_items(run_id: uuid.UUID, ctx: ActorCtx) -> Response:
    """The items the gateway answers for the run: JSON Lines of `{"item_id", "prompt"}` in suite
    order, exactly the bytes whose sha256 the run request announced. Prompts only, never a key.
    For services (the gateway's items token) and operators."""
    ctx.actor.require(Role.SERVICE, Role.OPERATOR)
    return Response(content=await service.run_items(ctx.session, run_id), media_type=JSONL)


@router.get(
    "/v1/stages/{stage_id}/runs",
    response_model=list[PlannedRunOut],
    responses=problem_responses(401, 403),
    summary="A stage's planned runs",
)
async def stage_runs(stage_id: uuid.UUID, ctx: OperatorCtx) -> list[PlannedRunOut]:
    """Every run planned for the stage (submission x suite) and where it stands (operators).
    `in_window` false: completed after the stage's evidence cut-off, kept but never counted."""
    cut = await criteria_service.cutoff(ctx.session, stage_id)
    runs = []
    for row in await repository.runs_of_stage(ctx.session, stage_id):
        out = PlannedRunOut.model_validate(row)
        out.in_window = criteria_service.in_window(row.completed_at, cut)
        runs.append(out)
    return runs
