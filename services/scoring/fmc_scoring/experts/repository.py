from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_scoring.experts.models import (
    ConflictDeclaration,
    ExpertPanel,
    ExpertScore,
    PanelEvaluator,
    ScoreAmendment,
)
from fmc_scoring.grading.models import ItemGradeRow
from fmc_scoring.planning.models import PlannedRun
from fmc_scoring.suites.models import SuiteItem


async def panel(session: AsyncSession, stage_id: uuid.UUID) -> ExpertPanel | None:
    return await session.get(ExpertPanel, stage_id)


async def evaluator(session: AsyncSession, stage_id: uuid.UUID, subject: str) -> PanelEvaluator | None:
    return await session.get(PanelEvaluator, (stage_id, subject))


async def evaluators(session: AsyncSession, stage_id: uuid.UUID) -> list[PanelEvaluator]:
    query = select(PanelEvaluator).where(PanelEvaluator.stage_id == stage_id).order_by(PanelEvaluator.subject)
    return list(await session.scalars(query))


async def scores(
    session: AsyncSession,
    stage_id: uuid.UUID,
    *,
    evaluator: str | None = None,
    team_id: uuid.UUID | None = None,
) -> list[ExpertScore]:
    query = select(ExpertScore).where(ExpertScore.stage_id == stage_id)
    if evaluator is not None:
        query = query.where(ExpertScore.evaluator == evaluator)
    if team_id is not None:
        query = query.where(ExpertScore.team_id == team_id)
    return list(await session.scalars(query.order_by(ExpertScore.team_id, ExpertScore.evaluator)))


async def existing(
    session: AsyncSession, stage_id: uuid.UUID, team_id: uuid.UUID, evaluator: str
) -> ExpertScore | None:
    query = select(ExpertScore).where(
        ExpertScore.stage_id == stage_id, ExpertScore.team_id == team_id, ExpertScore.evaluator == evaluator
    )
    return await session.scalar(query)


async def amendments(session: AsyncSession, stage_id: uuid.UUID) -> dict[uuid.UUID, list[ScoreAmendment]]:
    """Each amended score's amendments, oldest first."""
    query = (
        select(ScoreAmendment)
        .where(ScoreAmendment.stage_id == stage_id)
        .order_by(ScoreAmendment.amended_at, ScoreAmendment.id)
    )
    found: dict[uuid.UUID, list[ScoreAmendment]] = {}
    for row in await session.scalars(query):
        found.setdefault(row.score_id, []).append(row)
    return found


async def declarations(
    session: AsyncSession, stage_id: uuid.UUID, *, evaluator: str | None = None
) -> list[ConflictDeclaration]:
    """The evaluators' own conflict declarations of the stage (one evaluator's with ``evaluator``)."""
    query = select(ConflictDeclaration).where(ConflictDeclaration.stage_id == stage_id)
    if evaluator is not None:
        query = query.where(ConflictDeclaration.evaluator == evaluator)
    order = (ConflictDeclaration.declared_at, ConflictDeclaration.id)
    return list(await session.scalars(query.order_by(*order)))


async def declaration(
    session: AsyncSession, stage_id: uuid.UUID, evaluator: str, team_id: uuid.UUID
) -> ConflictDeclaration | None:
    query = select(ConflictDeclaration).where(
        ConflictDeclaration.stage_id == stage_id,
        ConflictDeclaration.evaluator == evaluator,
        ConflictDeclaration.team_id == team_id,
    )
    return await session.scalar(query)


async def item_ids(session: AsyncSession, suite_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """Each suite's item ids (ids only: a suite may hold thousands of items)."""
    query = select(SuiteItem.suite_id, SuiteItem.item_id).where(SuiteItem.suite_id.in_(suite_ids))
    found: dict[uuid.UUID, list[str]] = {suite: [] for suite in suite_ids}
    for suite_id, item_id in (await session.execute(query)).all():
        found[suite_id].append(item_id)
    return found


async def prompts(session: AsyncSession, suite_id: uuid.UUID, items: list[str]) -> dict[str, str]:
    """The rendered prompts of some items of a suite (never their answer keys: another table)."""
    query = select(SuiteItem.item_id, SuiteItem.prompt).where(
        SuiteItem.suite_id == suite_id, SuiteItem.item_id.in_(items)
    )
    return {item_id: prompt for item_id, prompt in (await session.execute(query)).all()}


async def responses(
    session: AsyncSession, stage_id: uuid.UUID, team_id: uuid.UUID, suite_id: uuid.UUID, items: list[str]
) -> dict[str, str | None]:
    """What the team's run of the suite in the stage answered to these items, as stored when it was
    graded (the response only: the grade columns are not read)."""
    query = (
        select(ItemGradeRow.item_id, ItemGradeRow.response)
        .join(PlannedRun, PlannedRun.id == ItemGradeRow.run_id)
        .where(
            PlannedRun.stage_id == stage_id,
            PlannedRun.team_id == team_id,
            PlannedRun.suite_id == suite_id,
            ItemGradeRow.item_id.in_(items),
        )
    )
    return {item_id: response for item_id, response in (await session.execute(query)).all()}
