"""The expert panel: assigning evaluators, accepting scores until the deadline, conflicts of interest."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.auth import Role
from fmc_common.clock import SEOUL, as_utc
from fmc_common.errors import Conflict, Forbidden, InvalidInput, NotFound
from fmc_scoring.audit import service as audit
from fmc_scoring.criteria import service as criteria_service
from fmc_scoring.deps import ScoringCtx
from fmc_scoring.experts import repository
from fmc_scoring.experts.aggregate import Criterion, EvaluatorScore, PanelScore, trimmed_mean
from fmc_scoring.experts.models import (
    ConflictDeclaration,
    ExpertPanel,
    ExpertScore,
    PanelEvaluator,
    ScoreAmendment,
)
from fmc_scoring.experts.sampling import capped, choose
from fmc_scoring.experts.schemas import AmendmentIn, ConflictIn, PanelIn, SampledItemOut, SampleOut, ScoreIn
from fmc_scoring.grading.normalise import normalise
from fmc_scoring.participants.models import Participant
from fmc_scoring.planning import repository as planning
from fmc_scoring.values import ChoiceScoring


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
    title = "The evaluator has a conflict of interest with this team (affiliation or declaration)"


class ConflictAlreadyDeclared(Conflict):
    code = "conflict-already-declared"
    title = "A conflict of interest with this team is already declared for this evaluator"


class ModelNotInStage(NotFound):
    code = "model-not-found"
    title = "No model of this team is evaluated in the stage"


class ConflictKind(StrEnum):
    """Why an evaluator may not score a team (the problem's ``conflict`` member; never the team)."""

    DECLARED = "declared"
    AFFILIATION = "affiliation"


class AlreadyScored(Conflict):
    code = "already-scored"
    title = "This evaluator already scored this team; every score is kept as given"


class ScoreNotFound(NotFound):
    code = "expert-score-not-found"
    title = "No such expert score in this stage"


class NotYourScore(Forbidden):
    code = "not-your-score"
    title = "Only the evaluator who gave a score may amend it"


class AmendmentUnchanged(InvalidInput):
    code = "amendment-unchanged"
    title = "The amendment gives the values that already count"


class TeamUnknown(NotFound):
    code = "team-not-found"
    title = "No such team in scoring"


def seoul(when: datetime) -> str:
    return as_utc(when).astimezone(SEOUL).isoformat()


def _organisation(name: str) -> str:
    return normalise(name).replace(" ", "")


async def conflict_of(
    session: AsyncSession, evaluator: PanelEvaluator, team_id: uuid.UUID
) -> ConflictKind | None:
    """``declared`` (by an operator on the panel, or by the evaluator), ``affiliation`` (the evaluator's
    organisation leads the team, compared after NFKC, case and punctuation folding), or None."""
    if str(team_id) in evaluator.declared_conflicts:
        return ConflictKind.DECLARED
    if await repository.declaration(session, evaluator.stage_id, evaluator.subject, team_id) is not None:
        return ConflictKind.DECLARED
    team = await session.get(Participant, team_id)
    if team is not None and _organisation(team.lead_organisation) in {
        _organisation(a) for a in evaluator.affiliations
    }:
        return ConflictKind.AFFILIATION
    return None


async def _refuse_conflict(session: AsyncSession, evaluator: PanelEvaluator, team_id: uuid.UUID) -> None:
    """Refused with ``conflict-of-interest``; the problem says which kind, and names no team (the
    evaluator reads the models blind)."""
    kind = await conflict_of(session, evaluator, team_id)
    if kind is not None:
        raise ConflictOfInterest(
            f"{evaluator.name} may not evaluate this model: a conflict of interest ({kind})",
            conflict=kind.value,
        )


async def _on_panel(ctx: ScoringCtx, stage_id: uuid.UUID) -> PanelEvaluator:
    evaluator = await repository.evaluator(ctx.session, stage_id, ctx.actor.subject)
    if evaluator is None:
        raise NotOnPanel(f"{ctx.actor.subject} is not on the panel of stage {stage_id}")
    return evaluator


async def _model_of_stage(ctx: ScoringCtx, stage_id: uuid.UUID, team_id: uuid.UUID) -> None:
    if await planning.submission(ctx.session, stage_id, team_id) is None:
        raise ModelNotInStage(f"stage {stage_id} evaluates no model of this team")


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
    evaluator = await _on_panel(ctx, stage_id)
    team = await ctx.session.get(Participant, body.team_id)
    if team is None:
        raise TeamUnknown(f"scoring has no record of team {body.team_id}")
    await _refuse_conflict(ctx.session, evaluator, team.team_id)
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


def _criteria(row: ExpertScore | ScoreAmendment) -> dict[Criterion, float]:
    return {
        Criterion.TECHNICAL_ORIGINALITY: row.technical_originality,
        Criterion.TECHNOLOGICAL_CAPABILITY: row.technological_capability,
        Criterion.READINESS: row.readiness,
    }


async def amend_score(
    ctx: ScoringCtx, stage_id: uuid.UUID, score_id: uuid.UUID, body: AmendmentIn
) -> ScoreAmendment:
    """The evaluator who gave the score corrects it, with a reason; the score is kept as given.

    Recorded by the evidence cut-off (the panel is still open), the amendment counts at once; after
    it (in particular after publication, which fixes the cut-off), it is kept, audited and marked
    out of window, and counts only in a re-evaluation ordered by an accepted objection concerning
    the expert panel or the process."""
    ctx.actor.require(Role.EVALUATOR)
    score = await ctx.session.get(ExpertScore, score_id)
    if score is None or score.stage_id != stage_id:
        raise ScoreNotFound(f"stage {stage_id} has no expert score {score_id}")
    if score.evaluator != ctx.actor.subject:
        raise NotYourScore(f"score {score_id} was given by another evaluator")
    if await withdrawal(ctx.session, score) is not None:
        raise ConflictOfInterest(
            f"score {score_id} was withdrawn by a declared conflict of interest",
            conflict=ConflictKind.DECLARED.value,
        )
    earlier = (await repository.amendments(ctx.session, stage_id)).get(score_id, [])
    counting = _criteria(earlier[-1] if earlier else score)
    wanted = {
        Criterion.TECHNICAL_ORIGINALITY: body.technical_originality,
        Criterion.TECHNOLOGICAL_CAPABILITY: body.technological_capability,
        Criterion.READINESS: body.readiness,
    }
    if wanted == counting:
        raise AmendmentUnchanged(f"score {score_id} already has these values")
    now = ctx.clock.now()
    amendment = ScoreAmendment(
        id=uuid.uuid4(),
        score_id=score.id,
        stage_id=stage_id,
        team_id=score.team_id,
        evaluator=score.evaluator,
        technical_originality=body.technical_originality,
        technological_capability=body.technological_capability,
        readiness=body.readiness,
        reason=body.reason,
        amended_at=now,
    )
    ctx.session.add(amendment)
    await ctx.session.flush()
    cut = await criteria_service.cutoff(ctx.session, stage_id)
    await audit.record(
        ctx,
        action="expert-score.amended",
        entity_type="expert-score",
        entity_id=score.id,
        reason=body.reason,
        details={
            "stage_id": str(stage_id),
            "team_id": str(score.team_id),
            "amendment_id": str(amendment.id),
            "before": {c.value: v for c, v in counting.items()},
            "after": {c.value: v for c, v in wanted.items()},
            "in_window": criteria_service.in_window(now, cut),
        },
    )
    return amendment


@dataclass(frozen=True)
class PanelEvidence:
    """A team's panel score and the records behind it: the scores counted (by id), the amendments
    applied, and the team's scores left out as given after the cut-off."""

    score: PanelScore
    amendment_ids: tuple[uuid.UUID, ...]


async def panel_evidence(
    session: AsyncSession, stage_id: uuid.UUID, cutoff: datetime | None, *, late_amendments: bool
) -> dict[uuid.UUID, PanelEvidence]:
    """Each scored team's trimmed mean over the scores given by the cut-off, each with its latest
    applicable amendment's values (``late_amendments``: also those recorded after the cut-off, as a
    re-evaluation on the expert panel applies them). A score withdrawn by its evaluator's conflict
    declaration is left out, under the same rule: a declaration by the cut-off at once, a later one
    only with ``late_amendments``."""
    amendments = await repository.amendments(session, stage_id)
    withdrawn = {
        d.withdrawn_score_id
        for d in await repository.declarations(session, stage_id)
        if d.withdrawn_score_id is not None
        and (late_amendments or criteria_service.in_window(d.declared_at, cutoff))
    }
    by_team: dict[uuid.UUID, list[EvaluatorScore]] = {}
    applied: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in await repository.scores(session, stage_id):
        if not criteria_service.in_window(row.submitted_at, cutoff) or row.id in withdrawn:
            continue
        usable = [
            a
            for a in amendments.get(row.id, [])
            if late_amendments or criteria_service.in_window(a.amended_at, cutoff)
        ]
        source: ExpertScore | ScoreAmendment = usable[-1] if usable else row
        if usable:
            applied.setdefault(row.team_id, []).append(usable[-1].id)
        by_team.setdefault(row.team_id, []).append(
            EvaluatorScore(score_id=str(row.id), evaluator=row.evaluator, criteria=_criteria(source))
        )
    return {
        team: PanelEvidence(trimmed_mean(scores), tuple(sorted(applied.get(team, []), key=str)))
        for team, scores in by_team.items()
    }


async def panel_scores(session: AsyncSession, stage_id: uuid.UUID) -> dict[uuid.UUID, PanelScore]:
    """Each scored team's trimmed mean as it stands now: the scores given by the stage's cut-off
    (all while none is fixed), with every amendment."""
    cut = await criteria_service.cutoff(session, stage_id)
    found = await panel_evidence(session, stage_id, cut, late_amendments=True)
    return {team: evidence.score for team, evidence in found.items()}


async def withdrawal(session: AsyncSession, score: ExpertScore) -> ConflictDeclaration | None:
    """The declaration that withdrew this score, if any."""
    found = await repository.declaration(session, score.stage_id, score.evaluator, score.team_id)
    return found if found is not None and found.withdrawn_score_id == score.id else None


async def declare_conflict(ctx: ScoringCtx, stage_id: uuid.UUID, body: ConflictIn) -> ConflictDeclaration:
    """An evaluator on the panel declares a conflict of interest with one of the stage's models.

    From then on the evaluator can neither score nor amend a score of that team, nor read its sampled
    responses; a score already given is **withdrawn**: kept as given, listed with ``withdrawn_at``,
    and no longer counted (``panel_evidence``). The declaration is audited with its reason and cannot
    be undone through the API (an operator's ``PUT .../panel`` does not touch it either)."""
    ctx.actor.require(Role.EVALUATOR)
    panel = await get_panel(ctx, stage_id)
    now = ctx.clock.now()
    if now >= as_utc(panel.deadline):
        raise PanelClosed(f"the panel closed at {seoul(panel.deadline)}", deadline=seoul(panel.deadline))
    evaluator = await _on_panel(ctx, stage_id)
    await _model_of_stage(ctx, stage_id, body.team_id)
    if str(body.team_id) in evaluator.declared_conflicts or (
        await repository.declaration(ctx.session, stage_id, evaluator.subject, body.team_id) is not None
    ):
        raise ConflictAlreadyDeclared(f"{evaluator.name} already has a declared conflict with this model")
    score = await repository.existing(ctx.session, stage_id, body.team_id, evaluator.subject)
    declaration = ConflictDeclaration(
        id=uuid.uuid4(),
        stage_id=stage_id,
        evaluator=evaluator.subject,
        team_id=body.team_id,
        reason=body.reason,
        declared_at=now,
        withdrawn_score_id=None if score is None else score.id,
    )
    ctx.session.add(declaration)
    await ctx.session.flush()
    cut = await criteria_service.cutoff(ctx.session, stage_id)
    await audit.record(
        ctx,
        action="panel.conflict-declared",
        entity_type="stage",
        entity_id=stage_id,
        reason=body.reason,
        details={
            "declaration_id": str(declaration.id),
            "evaluator": evaluator.subject,
            "team_id": str(body.team_id),
            "withdrawn_score_id": None if score is None else str(score.id),
            "in_window": criteria_service.in_window(now, cut),
        },
    )
    return declaration


async def sampled_responses(ctx: ScoringCtx, stage_id: uuid.UUID, team_id: uuid.UUID) -> SampleOut:
    """What an evaluator on the panel reads of a model: the same few benchmark items for every model
    of the stage (``sampling.choose``), each prompt with the team's stored response, both cut to
    ``panel_sample_chars``. Log-likelihood suites are left out (their "response" is a table of
    numbers, not an answer). Refused for an evaluator in conflict with the team."""
    ctx.actor.require(Role.EVALUATOR)
    await get_panel(ctx, stage_id)
    evaluator = await _on_panel(ctx, stage_id)
    await _model_of_stage(ctx, stage_id, team_id)
    await _refuse_conflict(ctx.session, evaluator, team_id)
    criteria = await criteria_service.load(ctx.session, stage_id)
    if criteria is None:
        return SampleOut(stage_id=stage_id, items=[])
    suites = {
        suite.id: suite for link, suite in criteria.suites if link.scoring != ChoiceScoring.LOGLIKELIHOOD
    }
    seed = int(criteria.row.decoding.get("seed", 0))
    chosen = choose(
        stage_id, seed, await repository.item_ids(ctx.session, list(suites)), ctx.settings.panel_sample_items
    )
    limit = ctx.settings.panel_sample_chars
    items: list[SampledItemOut] = []
    for position, pick in enumerate(chosen, start=1):
        asked = await repository.prompts(ctx.session, pick.suite_id, [pick.item_id])
        answered = await repository.responses(ctx.session, stage_id, team_id, pick.suite_id, [pick.item_id])
        prompt, prompt_cut = capped(asked.get(pick.item_id, ""), limit)
        response = answered.get(pick.item_id)
        text, text_cut = capped(response, limit) if response is not None else (None, False)
        suite = suites[pick.suite_id]
        items.append(
            SampledItemOut(
                position=position,
                suite_title=suite.title,
                language=suite.language,
                prompt=prompt,
                prompt_truncated=prompt_cut,
                response=text,
                response_truncated=text_cut,
            )
        )
    return SampleOut(stage_id=stage_id, items=items)
