"""Review of objections: received → under review → accepted / rejected (operators), or withdrawn (the team).

Every step is audited with its actor, time and reason. An accepted objection about scoring,
originality or the process asks scoring for a re-evaluation of what it concerns.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from fmc_common.auth import Role
from fmc_common.events.grievance import (
    ObjectionDecided,
    ObjectionGrounds,
    ObjectionOutcome,
    ReEvaluationConcern,
    ReEvaluationRequested,
)
from fmc_grievance.audit import service as audit
from fmc_grievance.deps import GrievanceCtx
from fmc_grievance.objections import repository
from fmc_grievance.objections.errors import IllegalObjectionTransition, ReEvaluationScopeRequired
from fmc_grievance.objections.models import Concerns, Objection, ObjectionStatus, ReEvaluation
from fmc_grievance.objections.service import readable

# Which states each state may move to (the terminal ones move nowhere).
TRANSITIONS: dict[ObjectionStatus, frozenset[ObjectionStatus]] = {
    ObjectionStatus.RECEIVED: frozenset({ObjectionStatus.UNDER_REVIEW, ObjectionStatus.WITHDRAWN}),
    ObjectionStatus.UNDER_REVIEW: frozenset(
        {ObjectionStatus.ACCEPTED, ObjectionStatus.REJECTED, ObjectionStatus.WITHDRAWN}
    ),
    ObjectionStatus.ACCEPTED: frozenset(),
    ObjectionStatus.REJECTED: frozenset(),
    ObjectionStatus.WITHDRAWN: frozenset(),
}

DEFAULT_CONCERNS: dict[ObjectionGrounds, tuple[ReEvaluationConcern, ...]] = {
    ObjectionGrounds.PROCESS_DEFECT: (ReEvaluationConcern.PROCESS,),
    ObjectionGrounds.ORIGINALITY_JUDGEMENT: (ReEvaluationConcern.ORIGINALITY,),
    ObjectionGrounds.OTHER: (),
}


def check_transition(current: ObjectionStatus, target: ObjectionStatus) -> None:
    allowed = TRANSITIONS[current]
    if target not in allowed:
        raise IllegalObjectionTransition(
            f"an objection that is {current} cannot become {target}",
            status=current,
            allowed=sorted(allowed),
        )


async def start_review(ctx: GrievanceCtx, objection_id: uuid.UUID, note: str | None) -> Objection:
    ctx.actor.require(Role.OPERATOR)
    objection = await readable(ctx, objection_id, lock=True)
    current = objection.status
    check_transition(current, ObjectionStatus.UNDER_REVIEW)
    now = ctx.clock.now()
    objection.status = ObjectionStatus.UNDER_REVIEW
    objection.review_started_at, objection.reviewer, objection.updated_at = now, ctx.actor.subject, now
    await ctx.session.flush()
    await _audit(ctx, objection, "objection.review-started", current, note)
    return objection


async def withdraw(ctx: GrievanceCtx, objection_id: uuid.UUID, reason: str) -> Objection:
    """The team takes its own objection back (before it is decided); the reason is kept."""
    ctx.actor.require(Role.TEAM)
    objection = await readable(ctx, objection_id, lock=True)
    await _conclude(ctx, objection, ObjectionOutcome.WITHDRAWN, reason)
    return objection


async def decide(
    ctx: GrievanceCtx,
    objection_id: uuid.UUID,
    outcome: ObjectionOutcome,
    reason: str,
    concerns: Sequence[ReEvaluationConcern] | None,
) -> Objection:
    """Accept or reject with a written reason; accepting may ask scoring for a re-evaluation."""
    ctx.actor.require(Role.OPERATOR)
    objection = await readable(ctx, objection_id, lock=True)
    scope: tuple[ReEvaluationConcern, ...] = ()
    if outcome == ObjectionOutcome.ACCEPTED:
        scope = _scope(await _grounds(ctx, objection), concerns)
    await _conclude(ctx, objection, outcome, reason)
    if scope:
        await _request_re_evaluation(ctx, objection, scope, reason)
    return objection


def _scope(
    grounds: ObjectionGrounds, concerns: Sequence[ReEvaluationConcern] | None
) -> tuple[ReEvaluationConcern, ...]:
    if concerns:
        return tuple(dict.fromkeys(concerns))  # unique, in the order given
    if grounds in DEFAULT_CONCERNS:
        return DEFAULT_CONCERNS[grounds]
    raise ReEvaluationScopeRequired(
        "an accepted scoring-error objection needs concerns: benchmark-suite and/or expert-panel",
        allowed=list(ReEvaluationConcern),
    )


async def _grounds(ctx: GrievanceCtx, objection: Objection) -> ObjectionGrounds:
    version = await repository.version(ctx.session, objection.id, objection.current_version)
    assert version is not None
    return version.grounds


async def _conclude(ctx: GrievanceCtx, objection: Objection, outcome: ObjectionOutcome, reason: str) -> None:
    current = objection.status
    target = ObjectionStatus(outcome)  # every outcome is a final status of the same name
    check_transition(current, target)
    now = ctx.clock.now()
    objection.status = target
    objection.decided_at, objection.decided_by, objection.decision_reason = now, ctx.actor.subject, reason
    objection.updated_at = now
    await ctx.session.flush()
    await _audit(ctx, objection, f"objection.{outcome}", current, reason)
    await ctx.outbox.add(
        ctx.session,
        ObjectionDecided(
            stage_id=objection.stage_id,
            decision_kind=objection.decision_kind,
            decision_id=objection.decision_id,
            objection_id=objection.id,
            team_id=objection.team_id,
            grounds=await _grounds(ctx, objection),
            outcome=outcome,
            reason=reason,
            decided_at=now,
        ),
    )


async def _request_re_evaluation(
    ctx: GrievanceCtx, objection: Objection, scope: tuple[ReEvaluationConcern, ...], reason: str
) -> None:
    now = ctx.clock.now()
    request = ReEvaluation(
        id=uuid.uuid4(),
        objection_id=objection.id,
        decision_kind=objection.decision_kind,
        decision_id=objection.decision_id,
        stage_id=objection.stage_id,
        team_id=objection.team_id,
        concerns=Concerns(list(scope)).model_dump(mode="json"),
        requested_at=now,
    )
    ctx.session.add(request)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="re-evaluation.requested",
        entity_type="objection",
        entity_id=objection.id,
        team_id=objection.team_id,
        reason=reason,
        details={"request_id": str(request.id), "concerns": request.concerns},
    )
    await ctx.outbox.add(
        ctx.session,
        ReEvaluationRequested(
            stage_id=objection.stage_id,
            decision_kind=objection.decision_kind,
            decision_id=objection.decision_id,
            request_id=request.id,
            objection_id=objection.id,
            team_id=objection.team_id,
            concerns=list(scope),
            reason=reason,
            requested_at=now,
        ),
    )


async def _audit(
    ctx: GrievanceCtx, objection: Objection, action: str, before: ObjectionStatus, reason: str | None
) -> None:
    await audit.record(
        ctx,
        action=action,
        entity_type="objection",
        entity_id=objection.id,
        team_id=objection.team_id,
        reason=reason,
        details={"from": before, "to": objection.status, "version": objection.current_version},
    )
