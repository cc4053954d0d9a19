"""REST: /v1/stages/{stage_id}/panel (operators assign evaluators; evaluators score teams)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from fmc_common.auth import Role
from fmc_common.clock import as_utc
from fmc_common.web.problems import problem_responses
from fmc_scoring.deps import ActorCtx, OperatorCtx, ScoringCtx
from fmc_scoring.experts import repository, service
from fmc_scoring.experts.models import ExpertPanel
from fmc_scoring.experts.schemas import EvaluatorOut, PanelIn, PanelOut, ScoreIn, ScoreOut, TeamPanelOut

router = APIRouter(prefix="/v1/stages/{stage_id}/panel", tags=["expert panel"])


async def _panel_out(ctx: ScoringCtx, panel: ExpertPanel, only: str | None = None) -> PanelOut:
    evaluators = await repository.evaluators(ctx.session, panel.stage_id)
    return PanelOut(
        stage_id=panel.stage_id,
        deadline=panel.deadline,
        deadline_seoul=service.seoul(panel.deadline),
        closed=ctx.clock.now() >= as_utc(panel.deadline),
        evaluators=[EvaluatorOut.model_validate(e) for e in evaluators if only is None or e.subject == only],
    )


@router.put("", response_model=PanelOut, responses=problem_responses(401, 403, 422), summary="Set the panel")
async def set_panel(stage_id: uuid.UUID, body: PanelIn, ctx: OperatorCtx) -> PanelOut:
    """Assign the stage's evaluators (the `sub` of their tokens, with their affiliations and any
    declared conflicts) and the deadline (operators). Scores already given are kept."""
    return await _panel_out(ctx, await service.set_panel(ctx, stage_id, body))


@router.get("", response_model=PanelOut, responses=problem_responses(401, 403, 404), summary="The panel")
async def get_panel(stage_id: uuid.UUID, ctx: ActorCtx) -> PanelOut:
    """The deadline (also in Asia/Seoul) and the evaluators: operators see all, an evaluator itself."""
    ctx.actor.require(Role.OPERATOR, Role.EVALUATOR)
    only = ctx.actor.subject if ctx.actor.role == Role.EVALUATOR else None
    return await _panel_out(ctx, await service.get_panel(ctx, stage_id), only)


@router.post(
    "/scores",
    status_code=status.HTTP_201_CREATED,
    response_model=ScoreOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Score a team",
)
async def submit_score(stage_id: uuid.UUID, body: ScoreIn, ctx: ActorCtx) -> ScoreOut:
    """An evaluator on the panel scores a team on the rubric (0-100 each: technical originality,
    technological capability, readiness for what comes next) with a comment. Refused after the
    deadline (`panel-closed`), for a team of the evaluator's own organisation or a declared conflict
    (`conflict-of-interest`), and for a second score of the same team (`already-scored`)."""
    ctx.actor.require(Role.EVALUATOR)
    return ScoreOut.model_validate(await service.submit_score(ctx, stage_id, body))


@router.get(
    "/scores", response_model=list[ScoreOut], responses=problem_responses(401, 403), summary="Scores given"
)
async def list_scores(stage_id: uuid.UUID, ctx: ActorCtx) -> list[ScoreOut]:
    """Every score with its comment (operators); an evaluator sees only the scores it gave."""
    ctx.actor.require(Role.OPERATOR, Role.EVALUATOR)
    evaluator = ctx.actor.subject if ctx.actor.role == Role.EVALUATOR else None
    return [
        ScoreOut.model_validate(s)
        for s in await repository.scores(ctx.session, stage_id, evaluator=evaluator)
    ]


@router.get(
    "/summary",
    response_model=list[TeamPanelOut],
    responses=problem_responses(401, 403),
    summary="Panel scores",
)
async def summary(stage_id: uuid.UUID, ctx: OperatorCtx) -> list[TeamPanelOut]:
    """Each team's trimmed mean, with the scores used and dropped (operators)."""
    panel = await service.panel_scores(ctx.session, stage_id)
    return [
        TeamPanelOut(
            team_id=team,
            value=score.value,
            per_criterion={criterion: value for criterion, value in score.per_criterion.items()},
            used_score_ids=[uuid.UUID(s) for s in score.used],
            dropped_score_ids=[uuid.UUID(s) for s in score.dropped],
        )
        for team, score in sorted(panel.items(), key=lambda p: str(p[0]))
    ]
