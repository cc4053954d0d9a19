from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_scoring.experts.models import ExpertPanel, ExpertScore, PanelEvaluator, ScoreAmendment


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
