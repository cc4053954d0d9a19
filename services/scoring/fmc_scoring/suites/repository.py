from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_scoring.suites.models import Suite, SuiteAnswerKey, SuiteItem, SuiteKeyRevision


async def get(session: AsyncSession, suite_id: uuid.UUID) -> Suite | None:
    return await session.get(Suite, suite_id)


async def by_key(session: AsyncSession, key: str, version: str) -> Suite | None:
    return await session.scalar(select(Suite).where(Suite.key == key, Suite.version == version))


async def page(session: AsyncSession, after: uuid.UUID | None, limit: int) -> list[Suite]:
    query = select(Suite).order_by(Suite.id).limit(limit)
    if after is not None:
        query = query.where(Suite.id > after)
    return list(await session.scalars(query))


async def items(
    session: AsyncSession, suite_id: uuid.UUID, after_seq: int = -1, limit: int | None = None
) -> list[SuiteItem]:
    """Prompts and choices only: this query cannot reach an answer key."""
    query = (
        select(SuiteItem)
        .where(SuiteItem.suite_id == suite_id, SuiteItem.seq > after_seq)
        .order_by(SuiteItem.seq)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(await session.scalars(query))


async def answer_keys(session: AsyncSession, suite_id: uuid.UUID) -> dict[str, SuiteAnswerKey]:
    rows = await session.scalars(select(SuiteAnswerKey).where(SuiteAnswerKey.suite_id == suite_id))
    return {row.item_id: row for row in rows}


async def content_rows(
    session: AsyncSession, suite_id: uuid.UUID
) -> list[tuple[str, str, list[str] | None, list[str] | None, dict[str, Any]]]:
    """``(item_id, prompt, choices, labels, answer key)`` of every item in suite order, for grading
    inside scoring (columns, not objects: thousands of items per suite)."""
    query = (
        select(
            SuiteItem.item_id, SuiteItem.prompt, SuiteItem.choices, SuiteItem.labels, SuiteAnswerKey.answer
        )
        .join(
            SuiteAnswerKey,
            (SuiteAnswerKey.suite_id == SuiteItem.suite_id) & (SuiteAnswerKey.item_id == SuiteItem.item_id),
        )
        .where(SuiteItem.suite_id == suite_id)
        .order_by(SuiteItem.seq)
    )
    return [(r[0], r[1], r[2], r[3], r[4]) for r in (await session.execute(query)).all()]


async def revision_keys_sha256(session: AsyncSession, suite_id: uuid.UUID, revision: int) -> str | None:
    query = select(SuiteKeyRevision.keys_sha256).where(
        SuiteKeyRevision.suite_id == suite_id, SuiteKeyRevision.revision == revision
    )
    return await session.scalar(query)


async def key_revisions(session: AsyncSession, suite_id: uuid.UUID) -> list[SuiteKeyRevision]:
    query = (
        select(SuiteKeyRevision)
        .where(SuiteKeyRevision.suite_id == suite_id)
        .order_by(SuiteKeyRevision.revision)
    )
    return list(await session.scalars(query))
