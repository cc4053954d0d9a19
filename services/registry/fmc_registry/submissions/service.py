"""Model submissions per team per stage, late statements, and the freeze when evaluation starts."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError

from fmc_common.errors import Conflict, NotFound
from fmc_common.events.registry import (
    EvaluationStarted,
    FrozenSubmission,
    SubmissionRegistered,
    TritonEndpoint,
)
from fmc_registry.audit import service as audit
from fmc_registry.deps import RegistryCtx
from fmc_registry.lifecycle import StageStatus, TeamStatus
from fmc_registry.programmes import service as programmes
from fmc_registry.programmes.models import Stage
from fmc_registry.submissions import repository
from fmc_registry.submissions.digest import manifest_digest, weights_location
from fmc_registry.submissions.models import Statement, Submission
from fmc_registry.submissions.schemas import SubmissionCreate
from fmc_registry.teams import service as teams


class SubmissionWindowClosed(Conflict):
    code = "submission-window-closed"
    title = "Submissions for this stage are frozen: its evaluation has started"


class StageNotOpen(Conflict):
    code = "stage-not-open"
    title = "This stage is not open for submissions yet"


class TeamNotInStage(Conflict):
    code = "team-not-in-stage"
    title = "The team does not take part in this stage"


class SubmissionNotFound(NotFound):
    code = "submission-not-found"
    title = "No such submission"


class SubmissionConflict(Conflict):
    code = "submission-version-conflict"
    title = "Another submission of this team was registered at the same moment; retry"


async def register_submission(
    ctx: RegistryCtx, stage_id: uuid.UUID, team_id: uuid.UUID, body: SubmissionCreate
) -> Submission:
    # Locking the stage row orders this against a concurrent start of the evaluation.
    stage = await programmes.get_stage(ctx, stage_id, lock=True)
    team = await teams.get_team(ctx, team_id)
    _check_window(stage)
    if not (
        team.programme_id == stage.programme_id
        and team.status == TeamStatus.IN_STAGE
        and team.stage_number == stage.number
    ):
        raise TeamNotInStage(f"team {team_id} is not in stage {stage.number}", team_status=team.status)
    version = await repository.last_version(ctx.session, stage.id, team.id) + 1
    submission = _new_submission(ctx, stage.id, team.id, version, body)
    ctx.session.add(submission)
    try:
        await ctx.session.flush()
    except IntegrityError as exc:
        raise SubmissionConflict("two submissions raced for the same version") from exc
    await audit.record(
        ctx,
        action="submission.registered",
        entity_type="submission",
        entity_id=submission.id,
        details={"stage_id": str(stage.id), "team_id": str(team.id), "version": submission.version},
    )
    await ctx.outbox.add(
        ctx.session,
        SubmissionRegistered(
            submission_id=submission.id,
            stage_id=stage.id,
            team_id=team.id,
            version=submission.version,
            endpoint=endpoint_of(submission),
            manifest_digest=submission.manifest_digest,
            registered_at=submission.registered_at,
        ),
    )
    return submission


def _new_submission(
    ctx: RegistryCtx, stage_id: uuid.UUID, team_id: uuid.UUID, version: int, body: SubmissionCreate
) -> Submission:
    manifest = body.manifest.model_dump(mode="json", exclude_none=True)
    return Submission(
        id=uuid.uuid4(),
        stage_id=stage_id,
        team_id=team_id,
        version=version,
        endpoint_url=body.endpoint.url,
        model_name=body.endpoint.model_name,
        model_version=body.endpoint.model_version,
        protocol=body.endpoint.protocol,
        gpu_pool=body.endpoint.gpu_pool,
        convention=body.endpoint.convention,
        chat_template=body.endpoint.chat_template,
        manifest=manifest,
        manifest_digest=manifest_digest(manifest),
        model_card=body.model_card.model_dump(mode="json"),
        registered_at=ctx.clock.now(),
    )


def _check_window(stage: Stage) -> None:
    if stage.status == StageStatus.DRAFT:
        raise StageNotOpen(f"stage {stage.number} is still a draft")
    if stage.status != StageStatus.OPEN:
        started = stage.evaluation_started_at.isoformat() if stage.evaluation_started_at else None
        raise SubmissionWindowClosed(
            f"the evaluation of stage {stage.number} has started; submissions are frozen",
            evaluation_started_at=started,
        )


def endpoint_of(submission: Submission) -> TritonEndpoint:
    return TritonEndpoint(
        url=submission.endpoint_url,
        model_name=submission.model_name,
        model_version=submission.model_version,
        protocol=submission.protocol,
        gpu_pool=submission.gpu_pool,
        convention=submission.convention,
        chat_template=submission.chat_template,
    )


async def get_submission(ctx: RegistryCtx, submission_id: uuid.UUID) -> Submission:
    submission = await repository.get(ctx.session, submission_id)
    if submission is None:
        raise SubmissionNotFound(f"no submission with id {submission_id}")
    return submission


async def of_stage(
    ctx: RegistryCtx, stage_id: uuid.UUID, team_id: uuid.UUID | None = None
) -> list[Submission]:
    """Every version submitted for the stage, by team (StageNotFound if there is no such stage)."""
    await programmes.get_stage(ctx, stage_id)
    return await repository.of_stage(ctx.session, stage_id, team_id)


async def evaluation_inputs(ctx: RegistryCtx, stage_id: uuid.UUID) -> list[Submission]:
    """The submissions frozen when the stage's evaluation started (none before it starts)."""
    await programmes.get_stage(ctx, stage_id)
    return await repository.frozen(ctx.session, stage_id)


async def statements_of(
    ctx: RegistryCtx, stage_id: uuid.UUID, team_id: uuid.UUID | None = None
) -> list[Statement]:
    await programmes.get_stage(ctx, stage_id)
    return await repository.statements(ctx.session, stage_id, team_id)


async def record_statement(ctx: RegistryCtx, stage_id: uuid.UUID, team_id: uuid.UUID, text: str) -> Statement:
    """Always stored; flagged late once the evaluation has begun (then it is never an input)."""
    stage = await programmes.get_stage(ctx, stage_id, lock=True)
    team = await teams.get_team(ctx, team_id)
    if team.programme_id != stage.programme_id:
        raise TeamNotInStage(f"team {team_id} is not in the programme of this stage")
    late = stage.status not in (StageStatus.DRAFT, StageStatus.OPEN)
    statement = Statement(
        id=uuid.uuid4(),
        stage_id=stage.id,
        team_id=team.id,
        text=text,
        late=late,
        submitted_at=ctx.clock.now(),
    )
    ctx.session.add(statement)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="statement.recorded",
        entity_type="statement",
        entity_id=statement.id,
        reason="received after the evaluation began; not considered" if late else None,
        details={"stage_id": str(stage.id), "team_id": str(team.id), "late": late},
    )
    return statement


async def start_evaluation(
    ctx: RegistryCtx, stage_id: uuid.UUID, reason: str | None = None
) -> list[Submission]:
    """The stage moves to ``evaluating`` and each team's latest submission is frozen (``freeze``)."""
    return await freeze(ctx, await programmes.get_stage(ctx, stage_id, lock=True), reason)


async def freeze(ctx: RegistryCtx, stage: Stage, reason: str | None = None) -> list[Submission]:
    """Freeze each team's latest submission and announce them: the evaluation's only inputs.

    ``stage`` must be locked (``get_stage(lock=True)``): a late submission waits for this to commit.
    """
    await programmes.transition_stage(ctx, stage, StageStatus.EVALUATING, reason)
    now = ctx.clock.now()
    stage.evaluation_started_at = now
    frozen = await repository.latest_per_team(ctx.session, stage.id)
    for submission in frozen:
        submission.frozen_at = now
    await ctx.session.flush()
    inputs = [frozen_input(s) for s in frozen]
    await audit.record(
        ctx,
        action="stage.evaluation-started",
        entity_type="stage",
        entity_id=stage.id,
        reason=reason,
        details={"frozen_submission_ids": [str(s.id) for s in frozen]},
    )
    await ctx.outbox.add(
        ctx.session,
        EvaluationStarted(
            stage_id=stage.id,
            programme_id=stage.programme_id,
            stage_number=stage.number,
            started_at=now,
            submissions=inputs,
            objection_days=stage.objection_days,
            planned_advancing=stage.planned_advancing,
        ),
    )
    return frozen


def frozen_input(submission: Submission) -> FrozenSubmission:
    return FrozenSubmission(
        submission_id=submission.id,
        team_id=submission.team_id,
        version=submission.version,
        endpoint=endpoint_of(submission),
        manifest_digest=submission.manifest_digest,
    )


def submission_view(submission: Submission) -> dict[str, Any]:
    return {
        "id": submission.id,
        "stage_id": submission.stage_id,
        "team_id": submission.team_id,
        "version": submission.version,
        "endpoint": endpoint_of(submission).model_dump(),
        "manifest": submission.manifest,
        "manifest_digest": submission.manifest_digest,
        "weights_location": weights_location(submission.team_id, submission.id),
        "model_card": submission.model_card,
        "registered_at": submission.registered_at,
        "frozen_at": submission.frozen_at,
    }
