"""Publishing an approved result version: three audiences, three events, one transaction.

* ``StageResultsPublished`` (internal, outcome and reason code per team): the notification from
  which grievance opens the objection windows. Sent for every approved version with its ``version``
  and, for a correction, the version it corrects (``corrects_version``): grievance notifies the teams
  whose outcome or reason changed.
* ``StageResultDetailed`` (internal): every figure, with the inputs it comes from.
* ``StageResultAnnounced`` (partner-facing): team names, advanced or eliminated, the reason
  category. Sent for the first version, and for a later one only if an outcome changed; a
  correction says which version it corrects and the category of its cause (``correction``).
"""

from __future__ import annotations

import uuid
from typing import Literal, cast

from fmc_common.events.results import (
    AnnouncedTeam,
    Correction,
    StageResultAnnounced,
    StageResultDetailed,
    SuiteFigure,
    TeamResultDetail,
)
from fmc_common.events.scoring import PublishedTeamOutcome, StageResultsPublished
from fmc_common.events.vocabulary import Outcome, Reason
from fmc_scoring.deps import ScoringCtx
from fmc_scoring.planning import repository as planning_repository
from fmc_scoring.results import repository, views
from fmc_scoring.results.detail import TeamDetail, TeamInputs
from fmc_scoring.results.models import StageResult, TeamResult

# The published wording of an approved outcome (an approved version has no pending team).
_PUBLISHED: dict[Outcome, Literal["advanced", "eliminated"]] = {
    Outcome.ADVANCE: "advanced",
    Outcome.ELIMINATE: "eliminated",
}


def outcomes(rows: list[TeamResult]) -> dict[uuid.UUID, tuple[Outcome, Reason | None]]:
    return {row.team_id: (row.outcome, row.reason) for row in rows}


async def publish(ctx: ScoringCtx, result: StageResult, previous: StageResult | None) -> None:
    evaluation = await planning_repository.evaluation(ctx.session, result.stage_id)
    assert evaluation is not None  # a result exists only for a started evaluation
    rows = await repository.team_rows(ctx.session, result.id)
    now = ctx.clock.now()
    await ctx.outbox.add(
        ctx.session,
        StageResultsPublished(
            stage_id=result.stage_id,
            programme_id=evaluation.programme_id,
            published_at=now,
            objection_days=evaluation.objection_days,
            teams=team_outcomes(rows),
            version=result.version,
            corrects_version=result.corrects_version,
        ),
    )
    await ctx.outbox.add(ctx.session, detailed(result, evaluation.programme_id, rows))
    changed = previous is None or outcomes(await repository.team_rows(ctx.session, previous.id)) != outcomes(
        rows
    )
    if changed:
        await ctx.outbox.add(ctx.session, await announcement(ctx, result, rows))


def team_outcomes(rows: list[TeamResult]) -> list[PublishedTeamOutcome]:
    """Outcomes and reason codes of an approved version, as the services are told them."""
    return [
        PublishedTeamOutcome(team_id=r.team_id, outcome=_PUBLISHED[r.outcome], reason_code=r.reason)
        for r in rows
    ]


def _suites(inputs: TeamInputs) -> list[SuiteFigure]:
    return [
        SuiteFigure(
            suite_id=figure.suite_id,
            suite_key=figure.suite_key,
            suite_version=figure.suite_version,
            run_id=figure.run_id,
            accuracy=figure.accuracy,
            ci_low=figure.ci_low,
            ci_high=figure.ci_high,
        )
        for _, figure in sorted(inputs.suites.items())
    ]


def detailed(result: StageResult, programme_id: uuid.UUID, rows: list[TeamResult]) -> StageResultDetailed:
    teams = []
    for row in rows:
        inputs = TeamDetail.model_validate(row.detail).inputs
        teams.append(
            TeamResultDetail(
                team_id=row.team_id,
                outcome=row.outcome,
                reason_code=row.reason,
                rank=row.rank,
                composite=row.composite,
                benchmark=row.benchmark,
                expert=row.expert,
                user=row.user,
                suites=_suites(inputs),
                expert_score_ids=inputs.expert.score_ids if inputs.expert else [],
                counted_votes=inputs.user.votes if inputs.user else 0,
                originality_check_id=inputs.originality.check_id,
            )
        )
    assert result.approved_at is not None
    return StageResultDetailed(
        stage_id=result.stage_id,
        programme_id=programme_id,
        result_id=result.id,
        version=result.version,
        cause=result.cause,
        advancing_planned=result.advancing_planned,
        vacancies=result.vacancies,
        teams=teams,
        approved_at=result.approved_at,
    )


async def announcement(ctx: ScoringCtx, result: StageResult, rows: list[TeamResult]) -> StageResultAnnounced:
    names = await views.team_names(ctx.session, [r.team_id for r in rows])
    return StageResultAnnounced(
        stage_id=result.stage_id,
        version=result.version,
        teams=[
            AnnouncedTeam(
                team_id=r.team_id,
                team_name=names[r.team_id],
                outcome=_PUBLISHED[r.outcome],
                reason_category=r.reason,
            )
            for r in sorted(rows, key=lambda r: names[r.team_id])
        ],
        announced_at=ctx.clock.now(),
        corrects_version=result.corrects_version,
        correction=cast("Correction | None", result.correction),
    )
