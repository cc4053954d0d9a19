"""Written feedback to a team on a result version: operators write it, the team reads it once the
version is published (docs/decisions/2026-12-06-written-feedback-per-result-version.md).

Each writing adds a revision (nothing is overwritten) and is audited; writing the text the latest
revision already holds adds nothing, so a retried request is harmless.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.auth import Role
from fmc_common.errors import NotFound
from fmc_scoring.audit import service as audit
from fmc_scoring.deps import ScoringCtx
from fmc_scoring.results import finality, repository, service
from fmc_scoring.results.models import ResultFeedback, StageResult
from fmc_scoring.results.schemas import FeedbackOut


class TeamNotInResult(NotFound):
    code = "team-not-in-result"
    title = "The team is not in this result version"


async def write(
    ctx: ScoringCtx, stage_id: uuid.UUID, version: int, team_id: uuid.UUID, text: str
) -> tuple[ResultFeedback, bool]:
    """The feedback as it stands after this writing, and whether a new revision was added.

    Under the stage's lock (as proposals and approvals): two writings at once take consecutive
    revisions."""
    await finality.lock_stage(ctx.session, stage_id)
    result = await service.get_version(ctx.session, stage_id, version)
    if await repository.team_row(ctx.session, result.id, team_id) is None:
        raise TeamNotInResult(f"team {team_id} is not in version {version} of stage {stage_id}")
    latest = await _latest(ctx.session, result.id, team_id)
    if latest is not None and latest.text == text:
        return latest, False
    revision = 1 + int(
        await ctx.session.scalar(
            select(func.coalesce(func.max(ResultFeedback.revision), 0)).where(
                ResultFeedback.result_id == result.id, ResultFeedback.team_id == team_id
            )
        )
        or 0
    )
    feedback = ResultFeedback(
        id=uuid.uuid4(),
        result_id=result.id,
        stage_id=stage_id,
        version=version,
        team_id=team_id,
        revision=revision,
        text=text,
        written_by=ctx.actor.subject,
        written_at=ctx.clock.now(),
    )
    ctx.session.add(feedback)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="result.feedback-written",
        entity_type="result-feedback",
        entity_id=feedback.id,
        reason=None,
        details={
            "stage_id": str(stage_id),
            "version": version,
            "team_id": str(team_id),
            "revision": revision,
            "chars": len(text),
        },
    )
    return feedback, True


async def of_team(ctx: ScoringCtx, stage_id: uuid.UUID, team_id: uuid.UUID) -> list[FeedbackOut]:
    """The latest feedback of each version, oldest version first: to the team itself only for
    published versions (and nothing before the stage has a published result); operators see all."""
    actor = ctx.actor.require_team(team_id)
    if actor.role == Role.TEAM:
        await service.published(ctx.session, stage_id)  # result-not-published before any publication
    versions = {r.id: r for r in await repository.versions(ctx.session, stage_id)}
    rows = await ctx.session.scalars(
        select(ResultFeedback)
        .where(ResultFeedback.stage_id == stage_id, ResultFeedback.team_id == team_id)
        .order_by(ResultFeedback.version, ResultFeedback.revision)
    )
    latest: dict[int, ResultFeedback] = {}
    for row in rows:
        latest[row.version] = row
    found = [out(f, versions[f.result_id]) for f in latest.values() if f.result_id in versions]
    return [f for f in found if f.published or actor.role == Role.OPERATOR]


def out(feedback: ResultFeedback, result: StageResult) -> FeedbackOut:
    return FeedbackOut(
        stage_id=feedback.stage_id,
        version=feedback.version,
        team_id=feedback.team_id,
        revision=feedback.revision,
        text=feedback.text,
        written_at=feedback.written_at,
        published=result.approved_at is not None,
    )


async def _latest(session: AsyncSession, result_id: uuid.UUID, team_id: uuid.UUID) -> ResultFeedback | None:
    query = (
        select(ResultFeedback)
        .where(ResultFeedback.result_id == result_id, ResultFeedback.team_id == team_id)
        .order_by(ResultFeedback.revision.desc())
        .limit(1)
    )
    return await session.scalar(query)
