from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_scoring.judging.models import Judgement, JudgeRun, SuiteJudge


async def judge_in_force(session: AsyncSession, suite_id: uuid.UUID) -> SuiteJudge | None:
    query = select(SuiteJudge).where(SuiteJudge.suite_id == suite_id).order_by(SuiteJudge.revision.desc())
    return (await session.scalars(query.limit(1))).first()


async def judge_revision(session: AsyncSession, suite_id: uuid.UUID, revision: int) -> SuiteJudge | None:
    return await session.get(SuiteJudge, (suite_id, revision))


async def judge_run(session: AsyncSession, judge_run_id: uuid.UUID) -> JudgeRun | None:
    return await session.get(JudgeRun, judge_run_id)


async def judge_runs_of(session: AsyncSession, team_run_id: uuid.UUID) -> list[JudgeRun]:
    query = select(JudgeRun).where(JudgeRun.team_run_id == team_run_id).order_by(JudgeRun.attempt)
    return list(await session.scalars(query))


async def judgements(session: AsyncSession, team_run_id: uuid.UUID) -> list[Judgement]:
    """Every judgement of the run, each item's attempts in order."""
    query = (
        select(Judgement)
        .where(Judgement.team_run_id == team_run_id)
        .order_by(Judgement.item_id, Judgement.position, Judgement.attempt)
    )
    return list(await session.scalars(query))


async def attempts(session: AsyncSession, team_run_id: uuid.UUID) -> int:
    query = select(func.count()).select_from(JudgeRun).where(JudgeRun.team_run_id == team_run_id)
    return int(await session.scalar(query) or 0)
