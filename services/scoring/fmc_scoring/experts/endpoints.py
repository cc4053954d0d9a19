"""REST: /v1/stages/{stage_id}/panel (operators assign evaluators; evaluators score teams)."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, status

from fmc_common.auth import Role
from fmc_common.clock import as_utc
from fmc_common.web.problems import problem_responses
from fmc_scoring.criteria import service as criteria_service
from fmc_scoring.deps import ActorCtx, OperatorCtx, ScoringCtx
from fmc_scoring.experts import judge_agreement, repository, service
from fmc_scoring.experts.models import ConflictDeclaration, ExpertPanel, ExpertScore, ScoreAmendment
from fmc_scoring.experts.schemas import (
    AmendmentIn,
    AmendmentOut,
    ConflictIn,
    ConflictOut,
    EvaluatorOut,
    PanelIn,
    PanelOut,
    SampleOut,
    ScoreIn,
    ScoreOut,
    TeamPanelOut,
)
from fmc_scoring.judging.schemas import AgreementOut

router = APIRouter(prefix="/v1/stages/{stage_id}/panel", tags=["expert panel"])


async def _panel_out(ctx: ScoringCtx, panel: ExpertPanel, only: str | None = None) -> PanelOut:
    """Operators see every evaluator with every declared conflict (theirs and the evaluators' own);
    an evaluator sees its own entry without team ids (it reads the models blind)."""
    evaluators = await repository.evaluators(ctx.session, panel.stage_id)
    declared: dict[str, list[str]] = {}
    for row in await repository.declarations(ctx.session, panel.stage_id):
        declared.setdefault(row.evaluator, []).append(str(row.team_id))
    listed = []
    for e in evaluators:
        if only is not None and e.subject != only:
            continue
        out = EvaluatorOut.model_validate(e)
        own = [t for t in declared.get(e.subject, []) if t not in out.declared_conflicts]
        out.declared_conflicts = [] if only is not None else [*out.declared_conflicts, *own]
        listed.append(out)
    return PanelOut(
        stage_id=panel.stage_id,
        deadline=panel.deadline,
        deadline_seoul=service.seoul(panel.deadline),
        closed=ctx.clock.now() >= as_utc(panel.deadline),
        evaluators=listed,
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
    score = await service.submit_score(ctx, stage_id, body)
    return _score_out(score, [], await criteria_service.cutoff(ctx.session, stage_id))


def _amendment_out(row: ScoreAmendment, cut: datetime | None) -> AmendmentOut:
    out = AmendmentOut.model_validate(row)
    out.in_window = criteria_service.in_window(row.amended_at, cut)
    return out


def _score_out(
    score: ExpertScore,
    amendments: list[ScoreAmendment],
    cut: datetime | None,
    withdrawn_at: datetime | None = None,
) -> ScoreOut:
    out = ScoreOut.model_validate(score)
    out.in_window = criteria_service.in_window(score.submitted_at, cut)
    out.amendments = [_amendment_out(a, cut) for a in amendments]
    out.withdrawn_at = withdrawn_at
    return out


@router.post(
    "/scores/{score_id}/amendments",
    status_code=status.HTTP_201_CREATED,
    response_model=AmendmentOut,
    responses=problem_responses(401, 403, 404, 422),
    summary="Amend a score",
)
async def amend_score(
    stage_id: uuid.UUID, score_id: uuid.UUID, body: AmendmentIn, ctx: ActorCtx
) -> AmendmentOut:
    """The evaluator who gave a score corrects it with a reason (a typo, a misread rubric); the score
    is kept as given and the amendment audited (who, when, why). Recorded by the stage's evidence
    cut-off, it counts at once; after it (the cut-off is fixed at the latest by the first
    publication) it is kept, marked `in_window: false`, and counts only in a re-evaluation ordered
    by an accepted objection concerning the expert panel or the process. Another evaluator's score
    is refused with `not-your-score` (403), values that already count with `amendment-unchanged` (422)."""
    amendment = await service.amend_score(ctx, stage_id, score_id, body)
    return _amendment_out(amendment, await criteria_service.cutoff(ctx.session, stage_id))


@router.get(
    "/scores", response_model=list[ScoreOut], responses=problem_responses(401, 403), summary="Scores given"
)
async def list_scores(stage_id: uuid.UUID, ctx: ActorCtx) -> list[ScoreOut]:
    """Every score with its comment and amendments (operators); an evaluator sees only the scores it
    gave. `in_window` false: given after the stage's evidence cut-off, kept but never counted."""
    ctx.actor.require(Role.OPERATOR, Role.EVALUATOR)
    evaluator = ctx.actor.subject if ctx.actor.role == Role.EVALUATOR else None
    cut = await criteria_service.cutoff(ctx.session, stage_id)
    amendments = await repository.amendments(ctx.session, stage_id)
    withdrawn = {
        d.withdrawn_score_id: d.declared_at
        for d in await repository.declarations(ctx.session, stage_id, evaluator=evaluator)
        if d.withdrawn_score_id is not None
    }
    return [
        _score_out(s, amendments.get(s.id, []), cut, withdrawn.get(s.id))
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


@router.get(
    "/judge-agreement",
    response_model=AgreementOut,
    responses=problem_responses(401, 403),
    summary="Judge and expert panel agreement",
)
async def panel_judge_agreement(stage_id: uuid.UUID, ctx: OperatorCtx) -> AgreementOut:
    """How the judge's grades agree with the expert panel on the stage's teams both scored
    (operators): each team's mean judged credit and panel score, their ranks, Spearman's rho."""
    return await judge_agreement.agreement(ctx.session, stage_id)


def _conflict_out(row: ConflictDeclaration, *, operator: bool) -> ConflictOut:
    out = ConflictOut(
        id=row.id,
        stage_id=row.stage_id,
        reason=row.reason,
        declared_at=row.declared_at,
        withdrew_score=row.withdrawn_score_id is not None,
    )
    if operator:
        out.team_id, out.evaluator, out.withdrawn_score_id = (
            row.team_id,
            row.evaluator,
            row.withdrawn_score_id,
        )
    return out


@router.post(
    "/conflicts",
    status_code=status.HTTP_201_CREATED,
    response_model=ConflictOut,
    response_model_exclude_none=True,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Declare a conflict of interest",
)
async def declare_conflict(stage_id: uuid.UUID, body: ConflictIn, ctx: ActorCtx) -> ConflictOut:
    """An evaluator on the panel declares a conflict of interest with one of the stage's models, with
    a reason (audited as `panel.conflict-declared`). From then on the evaluator can neither score the
    model, amend a score of it, nor read its sampled responses (`conflict-of-interest`); a score it
    had given is **withdrawn**: kept as given, shown with `withdrawn_at`, no longer counted. It cannot
    be undone by the evaluator. Refused after the deadline (`panel-closed`), for a model the stage
    does not evaluate (`model-not-found`, 404) and a second time (`conflict-already-declared`, 409).
    The answer carries no team id."""
    row = await service.declare_conflict(ctx, stage_id, body)
    return _conflict_out(row, operator=False)


@router.get(
    "/conflicts",
    response_model=list[ConflictOut],
    response_model_exclude_none=True,
    responses=problem_responses(401, 403),
    summary="Declared conflicts of interest",
)
async def list_conflicts(stage_id: uuid.UUID, ctx: ActorCtx) -> list[ConflictOut]:
    """The evaluators' own declarations: operators see all (with the team, the evaluator and the score
    withdrawn); an evaluator sees its own, without team ids."""
    ctx.actor.require(Role.OPERATOR, Role.EVALUATOR)
    evaluator = ctx.actor.subject if ctx.actor.role == Role.EVALUATOR else None
    rows = await repository.declarations(ctx.session, stage_id, evaluator=evaluator)
    return [_conflict_out(row, operator=evaluator is None) for row in rows]


@router.get(
    "/teams/{team_id}/sample",
    response_model=SampleOut,
    responses=problem_responses(401, 403, 404, 409),
    summary="A model's sampled responses",
)
async def sampled_responses(stage_id: uuid.UUID, team_id: uuid.UUID, ctx: ActorCtx) -> SampleOut:
    """For an evaluator on the panel: a few of the model's actual benchmark responses with their
    prompts, the same items for every model of the stage (chosen from the stage and its decoding seed,
    so every evaluator and every re-read sees the same), each cut to `PANEL_SAMPLE_CHARS`. Never a
    team id or name, a score, a grade or whether an answer was right. Refused with `not-on-panel`
    (403), `model-not-found` (404), `conflict-of-interest` (409, with `conflict`: `declared` or
    `affiliation`)."""
    return await service.sampled_responses(ctx, stage_id, team_id)
