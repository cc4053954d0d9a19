"""The expert panel: assigning evaluators, accepting scores until the deadline, conflicts of interest."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.clock import SEOUL, as_utc
from fmc_common.errors import Conflict, Forbidden, NotFound
from fmc_scoring.audit import service as audit
from fmc_scoring.deps import ScoringCtx
from fmc_scoring.experts import repository
from fmc_scoring.experts.aggregate import Criterion, EvaluatorScore, PanelScore, trimmed_mean
from fmc_scoring.experts.models import ExpertPanel, ExpertScore, PanelEvaluator
from fmc_scoring.experts.schemas import PanelIn, ScoreIn
from fmc_scoring.grading.normalise import normalise
from fmc_scoring.participants.models import Participant


class PanelNotFound(NotFound):
    code = "panel-not-found"
    title = "No expert panel for this stage"


class PanelClosed(Conflict):
    code = "panel-closed"
    title = "The panel's deadline has passed"


class NotOnPanel(Forbidden):
    code = "not-on-panel"
    title = "This evaluator is not assigned to the stage's panel"


class ConflictOfInterest(Conflict):
    code = "conflict-of-interest"
    title = "The evaluator is affiliated with the team's organisation"


class AlreadyScored(Conflict):
    code = "already-scored"
    title = "This evaluator already scored this team; every score is kept as given"


class TeamUnknown(NotFound):
    code = "team-not-found"
    title = "No such team in scoring"


def seoul(when: datetime) -> str:
    return as_utc(when).astimezone(SEOUL).isoformat()


def _organisation(name: str) -> str:
    return normalise(name).replace(" ", "")


async def set_panel(ctx: ScoringCtx, stage_id: uuid.UUID, body: PanelIn) -> ExpertPanel:
    """Create or replace the panel's deadline and evaluators; scores already given are kept."""
    panel = await repository.panel(ctx.session, stage_id)
    if panel is None:
        panel = ExpertPanel(stage_id=stage_id, opened_by=ctx.actor.subject, opened_at=ctx.clock.now())
        ctx.session.add(panel)
    panel.deadline = body.deadline
    await ctx.session.flush()
    await ctx.session.execute(delete(PanelEvaluator).where(PanelEvaluator.stage_id == stage_id))
    for evaluator in body.evaluators:
        ctx.session.add(
            PanelEvaluator(
                stage_id=stage_id,
                subject=evaluator.subject,
                name=evaluator.name,
                affiliations=list(evaluator.affiliations),
                declared_conflicts=[str(t) for t in evaluator.conflicts],
            )
        )
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="panel.set",
        entity_type="stage",
        entity_id=stage_id,
        details={"deadline": seoul(body.deadline), "evaluators": [e.subject for e in body.evaluators]},
    )
    return panel


async def get_panel(ctx: ScoringCtx, stage_id: uuid.UUID) -> ExpertPanel:
    panel = await repository.panel(ctx.session, stage_id)
    if panel is None:
        raise PanelNotFound(f"no expert panel for stage {stage_id}")
    return panel


async def submit_score(ctx: ScoringCtx, stage_id: uuid.UUID, body: ScoreIn) -> ExpertScore:
    panel = await get_panel(ctx, stage_id)
    now = ctx.clock.now()
    if now >= as_utc(panel.deadline):
        raise PanelClosed(f"the panel closed at {seoul(panel.deadline)}", deadline=seoul(panel.deadline))
    evaluator = await repository.evaluator(ctx.session, stage_id, ctx.actor.subject)
    if evaluator is None:
        raise NotOnPanel(f"{ctx.actor.subject} is not on the panel of stage {stage_id}")
    team = await ctx.session.get(Participant, body.team_id)
    if team is None:
        raise TeamUnknown(f"scoring has no record of team {body.team_id}")
    if str(body.team_id) in evaluator.declared_conflicts or _organisation(team.lead_organisation) in {
        _organisation(a) for a in evaluator.affiliations
    }:
        raise ConflictOfInterest(
            f"{evaluator.name} is affiliated with {team.lead_organisation}, which leads {team.name}",
            team_id=str(team.team_id),
        )
    if await repository.existing(ctx.session, stage_id, body.team_id, ctx.actor.subject) is not None:
        raise AlreadyScored(f"{evaluator.name} already scored team {body.team_id}")
    score = ExpertScore(
        id=uuid.uuid4(),
        stage_id=stage_id,
        team_id=body.team_id,
        evaluator=ctx.actor.subject,
        technical_originality=body.technical_originality,
        technological_capability=body.technological_capability,
        readiness=body.readiness,
        comment=body.comment,
        submitted_at=now,
    )
    ctx.session.add(score)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="expert-score.submitted",
        entity_type="expert-score",
        entity_id=score.id,
        details={"stage_id": str(stage_id), "team_id": str(body.team_id)},
    )
    return score


async def panel_scores(session: AsyncSession, stage_id: uuid.UUID) -> dict[uuid.UUID, PanelScore]:
    """Each scored team's trimmed mean over the panel's scores."""
    by_team: dict[uuid.UUID, list[EvaluatorScore]] = {}
    for row in await repository.scores(session, stage_id):
        by_team.setdefault(row.team_id, []).append(
            EvaluatorScore(
                score_id=str(row.id),
                evaluator=row.evaluator,
                criteria={
                    Criterion.TECHNICAL_ORIGINALITY: row.technical_originality,
                    Criterion.TECHNOLOGICAL_CAPABILITY: row.technological_capability,
                    Criterion.READINESS: row.readiness,
                },
            )
        )
    return {team: trimmed_mean(scores) for team, scores in by_team.items()}
