from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.errors import Conflict
from fmc_scoring.judging.models import Judgement, JudgeRun, SuiteJudge
from fmc_scoring.judging.verdicts import Outcome, Position
from fmc_scoring.suites.models import Suite
from fmc_scoring.values import ItemKind


class JudgeNotSet(Conflict):
    code = "judge-not-set"
    title = "The judged suite has no judge: set one before its evaluation starts"


async def judge_in_force(session: AsyncSession, suite_id: uuid.UUID) -> SuiteJudge | None:
    query = select(SuiteJudge).where(SuiteJudge.suite_id == suite_id).order_by(SuiteJudge.revision.desc())
    return (await session.scalars(query.limit(1))).first()


async def judge_as_of(session: AsyncSession, suite_id: uuid.UUID, at: datetime) -> SuiteJudge | None:
    """The revision in force at ``at`` (the evaluation's start: the same judge for every team)."""
    query = (
        select(SuiteJudge)
        .where(SuiteJudge.suite_id == suite_id, SuiteJudge.created_at <= at)
        .order_by(SuiteJudge.revision.desc())
    )
    return (await session.scalars(query.limit(1))).first()


async def require_judges(session: AsyncSession, suites: Sequence[Suite], at: datetime) -> None:
    """Every judged suite among these has a judge in force at ``at``; else ``JudgeNotSet``."""
    for suite in suites:
        if suite.kind == ItemKind.JUDGED and await judge_as_of(session, suite.id, at) is None:
            raise JudgeNotSet(
                f"judged suite {suite.key}@{suite.version} had no judge when the evaluation started; "
                "set one (PUT /v1/suites/{suite_id}/judge), then replay the dead-lettered event"
            )


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


Verdict = tuple[str, Position, float | None, Outcome | None]


async def verdicts(session: AsyncSession, team_run_id: uuid.UUID) -> list[Verdict]:
    """``(item_id, position, rating, outcome)`` of every judgement of the run, each item's attempts
    in order: what grading reads (columns, not objects: thousands per run)."""
    query = (
        select(Judgement.item_id, Judgement.position, Judgement.rating, Judgement.outcome)
        .where(Judgement.team_run_id == team_run_id)
        .order_by(Judgement.item_id, Judgement.position, Judgement.attempt)
    )
    return [(row[0], row[1], row[2], row[3]) for row in (await session.execute(query)).all()]


async def attempts(session: AsyncSession, team_run_id: uuid.UUID) -> int:
    query = select(func.count()).select_from(JudgeRun).where(JudgeRun.team_run_id == team_run_id)
    return int(await session.scalar(query) or 0)
