"""Agreement between the judge and the expert panel on a stage (judging/agreement.py's rule)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_scoring.experts import service as experts
from fmc_scoring.grading import repository as grading_repository
from fmc_scoring.judging.agreement import average_ranks, spearman
from fmc_scoring.judging.schemas import AgreementOut, TeamAgreement
from fmc_scoring.suites import service as suites
from fmc_scoring.values import ItemKind


async def agreement(session: AsyncSession, stage_id: uuid.UUID) -> AgreementOut:
    """Judge and panel on the stage's teams that both scored (module ``agreement``)."""
    credits: dict[uuid.UUID, list[float]] = {}
    for grade, run in await grading_repository.grades_of_stage(session, stage_id):
        if (await suites.get_suite(session, run.suite_id)).kind == ItemKind.JUDGED:
            credits.setdefault(run.team_id, []).append(grade.accuracy)
    panel = await experts.panel_scores(session, stage_id)
    teams = sorted(set(credits) & set(panel), key=str)
    judge_side = [sum(credits[t]) / len(credits[t]) for t in teams]
    panel_side = [panel[t].value for t in teams]
    judge_ranks, panel_ranks = average_ranks(judge_side), average_ranks(panel_side)
    return AgreementOut(
        stage_id=stage_id,
        teams=[
            TeamAgreement(
                team_id=team,
                judged_credit=judge_side[i],
                panel_score=panel_side[i],
                judge_rank=judge_ranks[i],
                panel_rank=panel_ranks[i],
            )
            for i, team in enumerate(teams)
        ],
        spearman=spearman(judge_side, panel_side),
    )
