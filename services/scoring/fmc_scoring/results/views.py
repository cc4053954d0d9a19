"""Building each audience's view of a result version (what is left out is the point)."""

from __future__ import annotations

import uuid
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.events.results import Correction
from fmc_common.events.vocabulary import Outcome
from fmc_scoring.participants.models import Participant
from fmc_scoring.results import finality, repository
from fmc_scoring.results.detail import TeamDetail, TeamInputs
from fmc_scoring.results.models import StageResult, TeamResult
from fmc_scoring.results.schemas import (
    OperatorResultOut,
    OperatorTeamOut,
    OwnExpertOut,
    OwnUserOut,
    PublicResultOut,
    PublicTeamOutcome,
    SuiteFigureOut,
    TeamOwnResultOut,
)


async def team_names(session: AsyncSession, team_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The names scoring recorded; a team's id while the registry's event has not arrived."""
    names = {}
    for team_id in team_ids:
        participant = await session.get(Participant, team_id)
        names[team_id] = participant.name if participant else str(team_id)
    return names


async def operator_view(session: AsyncSession, result: StageResult) -> OperatorResultOut:
    rows = await repository.team_rows(session, result.id)
    final = await finality.is_final(session, result.stage_id)
    names = await team_names(session, [r.team_id for r in rows])
    return OperatorResultOut(
        stage_id=result.stage_id,
        result_id=result.id,
        version=result.version,
        status=result.status,
        cause=result.cause,
        cause_id=result.cause_id,
        cause_reason=result.cause_reason,
        advancing_planned=result.advancing_planned,
        advancing=result.advancing,
        vacancies=result.vacancies,
        blocking=list(result.blocking),
        inputs=dict(result.inputs),
        proposed_by=result.proposed_by,
        proposed_at=result.proposed_at,
        approved_by=result.approved_by,
        approved_at=result.approved_at,
        finalized_at=result.finalized_at,
        corrects_version=result.corrects_version,
        correction=result.correction,
        stage_final=final,
        teams=[
            OperatorTeamOut(
                team_id=r.team_id,
                team_name=names[r.team_id],
                outcome=r.outcome,
                reason=r.reason,
                rank=r.rank,
                composite=r.composite,
                benchmark=r.benchmark,
                expert=r.expert,
                user=r.user,
                detail=dict(r.detail),
            )
            for r in sorted(rows, key=lambda r: (r.rank is None, r.rank or 0, names[r.team_id]))
        ],
    )


def _suite_figures(inputs: TeamInputs) -> list[SuiteFigureOut]:
    return [
        SuiteFigureOut(
            suite_key=figure.suite_key,
            suite_version=figure.suite_version,
            run_id=figure.run_id,
            accuracy=figure.accuracy,
            ci_low=figure.ci_low,
            ci_high=figure.ci_high,
            items=figure.items,
            errored=figure.errored,
        )
        for _, figure in sorted(inputs.suites.items())
    ]


def team_view(result: StageResult, row: TeamResult, *, final: bool) -> TeamOwnResultOut:
    """``final``: whether the stage is final now (``finality.is_final``)."""
    detail = TeamDetail.model_validate(row.detail)
    expert, user = detail.inputs.expert, detail.inputs.user
    return TeamOwnResultOut(
        stage_id=result.stage_id,
        version=result.version,
        team_id=row.team_id,
        outcome=row.outcome,
        reason=row.reason,
        composite=row.composite,
        benchmark=row.benchmark,
        expert=row.expert,
        user=row.user,
        gates={name: state for name, state in detail.gates.items()},
        failed_suites=detail.failed_suites,
        suites=_suite_figures(detail.inputs),
        expert_panel=None
        if expert is None
        else OwnExpertOut(
            value=expert.value,
            per_criterion=expert.per_criterion,
            score_ids=expert.score_ids,
            dropped_score_ids=expert.dropped_score_ids,
        ),
        user_votes=None if user is None else OwnUserOut(win_rate=user.win_rate, votes=user.votes),
        finalized=final,
    )


async def public_view(session: AsyncSession, result: StageResult) -> PublicResultOut:
    rows = await repository.team_rows(session, result.id)
    names = await team_names(session, [r.team_id for r in rows])
    return PublicResultOut(
        stage_id=result.stage_id,
        teams=[
            PublicTeamOutcome(
                team_id=r.team_id,
                team_name=names[r.team_id],
                outcome="advanced" if r.outcome == Outcome.ADVANCE else "eliminated",
                reason_category=r.reason,
            )
            for r in sorted(rows, key=lambda r: names[r.team_id])
        ],
        final=await finality.is_final(session, result.stage_id),
        version=result.version,
        corrects_version=result.corrects_version,
        correction=cast("Correction | None", result.correction),
    )
