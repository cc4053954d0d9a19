"""REST: /v1/stages/{stage_id}/status, a stage's move in its lifecycle (with its teams and submissions)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from fmc_common.web.problems import problem_responses
from fmc_registry.deps import OperatorCtx
from fmc_registry.programmes.schemas import StageOut
from fmc_registry.stages import service
from fmc_registry.stages.schemas import StageTransition

# Documented with the other stage endpoints, under "programmes" (the published OpenAPI is unchanged).
router = APIRouter(tags=["programmes"])


@router.post(
    "/v1/stages/{stage_id}/status",
    response_model=StageOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Move a stage in its lifecycle",
)
async def change_stage_status(stage_id: uuid.UUID, body: StageTransition, ctx: OperatorCtx) -> StageOut:
    """draft → open-for-submissions → evaluating → results-published → final (operators).

    Opening brings in the selected teams and those advanced from the previous stage; moving to
    `evaluating` is the same as starting the evaluation (submissions freeze, `EvaluationStarted`).
    An illegal step is refused with `illegal-status-transition`; `reopened` (from `final`) follows
    scoring's reopening only, and is refused here with `stage-reopening-is-scorings`.
    """
    return StageOut.of(await service.change_status(ctx, stage_id, body.to, body.reason))
