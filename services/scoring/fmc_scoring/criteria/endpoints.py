"""REST: /v1/stages/{stage_id}/criteria (operators set them until evaluation starts; all may read)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from fmc_common.web.problems import problem_responses
from fmc_scoring.criteria import service
from fmc_scoring.criteria.schemas import CriteriaIn, CriteriaOut, SuiteWeightOut
from fmc_scoring.deps import ActorCtx, OperatorCtx
from fmc_scoring.values import ChoiceScoring

router = APIRouter(prefix="/v1/stages/{stage_id}/criteria", tags=["criteria"])


def criteria_out(criteria: service.Criteria) -> CriteriaOut:
    row = criteria.row
    return CriteriaOut(
        stage_id=row.stage_id,
        suites=[
            SuiteWeightOut(
                suite_id=suite.id,
                suite_key=suite.key,
                suite_version=suite.version,
                content_hash=suite.content_hash,
                key_revision=suite.key_revision,
                weight=link.weight,
                min_accuracy=link.min_accuracy,
                scoring=link.scoring or ChoiceScoring.GENERATE,
                normalisation=link.normalisation,
                samples=link.samples or 1,
                pass_k=link.pass_k or 1,
            )
            for link, suite in criteria.suites
        ],
        part_weights={
            "benchmark": row.weight_benchmark,
            "expert": row.weight_expert,
            "user": row.weight_user,
        },
        overall_threshold=row.overall_threshold,
        advancing=row.advancing,
        tie_break=list(row.tie_break),
        arena_min_votes=row.arena_min_votes,
        decoding=dict(row.decoding),
        limits=dict(row.limits),
        revision=row.revision,
        updated_at=row.updated_at,
        frozen_at=row.frozen_at,
        evidence_cutoff=row.evidence_cutoff,
        evidence_cutoff_source=row.evidence_cutoff_source,
    )


@router.put(
    "",
    response_model=CriteriaOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Set criteria",
)
async def set_criteria(stage_id: uuid.UUID, body: CriteriaIn, ctx: OperatorCtx) -> CriteriaOut:
    """Set the stage's criteria (operators): suites and weights, thresholds, part weights, the number
    of teams that advance, the tie-break, decoding parameters. Each change is a new revision, audited.
    Once the stage's evaluation has started they are fixed, as agreed with the teams: a change is
    refused with `criteria-frozen` (409)."""
    return criteria_out(await service.set_criteria(ctx, stage_id, body))


@router.get(
    "", response_model=CriteriaOut, responses=problem_responses(401, 404), summary="A stage's criteria"
)
async def get_criteria(stage_id: uuid.UUID, ctx: ActorCtx) -> CriteriaOut:
    """The criteria in force for the stage (any authenticated caller: teams agreed to them)."""
    return criteria_out(await service.get(ctx.session, stage_id))
