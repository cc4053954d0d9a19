from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from fmc_common.events.grievance import DecisionKind
from fmc_grievance.notifications.models import Notification
from fmc_grievance.windows.deadline import ObjectionWindow


async def get(
    session: AsyncSession, notification_id: uuid.UUID, *, lock: bool = False
) -> Notification | None:
    if not lock:
        return await session.get(Notification, notification_id)
    query = select(Notification).where(Notification.id == notification_id).with_for_update()
    return await session.scalar(query.execution_options(populate_existing=True))


async def of_team(
    session: AsyncSession,
    decision_kind: DecisionKind,
    decision_id: uuid.UUID,
    team_id: uuid.UUID,
    *,
    lock: bool = False,
) -> list[Notification]:
    """The team's notifications of a decision, latest round first; ``lock`` holds them until the end.

    Filings and the closing scheduler both lock them, so no filing can slip in after its window
    was closed (on SQLite, transactions are serial anyway).
    """
    query = (
        select(Notification)
        .where(
            Notification.decision_kind == decision_kind,
            Notification.decision_id == decision_id,
            Notification.team_id == team_id,
        )
        .order_by(Notification.round.desc())
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return list(await session.scalars(query))


async def latest_of_decision(
    session: AsyncSession, decision_kind: DecisionKind, decision_id: uuid.UUID
) -> dict[uuid.UUID, Notification]:
    """Each notified team's latest notification of the decision (the decision in force for it)."""
    latest: dict[uuid.UUID, Notification] = {}
    for notification in await of_decision(session, decision_kind, decision_id):
        known = latest.get(notification.team_id)
        if known is None or notification.round > known.round:
            latest[notification.team_id] = notification
    return latest


async def current_round(session: AsyncSession, decision_kind: DecisionKind, decision_id: uuid.UUID) -> int:
    """The decision's latest round (0 while no team has been notified of it)."""
    query = select(func.max(Notification.round)).where(
        Notification.decision_kind == decision_kind, Notification.decision_id == decision_id
    )
    return int(await session.scalar(query) or 0)


async def latest_result_version(
    session: AsyncSession, decision_kind: DecisionKind, decision_id: uuid.UUID
) -> int | None:
    query = select(func.max(Notification.result_version)).where(
        Notification.decision_kind == decision_kind, Notification.decision_id == decision_id
    )
    found = await session.scalar(query)
    return None if found is None else int(found)


async def of_reopening(session: AsyncSession, reopening_id: uuid.UUID) -> list[Notification]:
    query = select(Notification).where(Notification.reopening_id == reopening_id)
    return list(await session.scalars(query.order_by(Notification.team_id)))


async def superseded_by(session: AsyncSession, notification_id: uuid.UUID) -> Notification | None:
    """The team's later notification that replaced this one (None while this one is in force)."""
    return await session.scalar(select(Notification).where(Notification.supersedes_id == notification_id))


async def of_decision(
    session: AsyncSession, decision_kind: DecisionKind, decision_id: uuid.UUID
) -> list[Notification]:
    query = select(Notification).where(
        Notification.decision_kind == decision_kind, Notification.decision_id == decision_id
    )
    return list(await session.scalars(query.order_by(Notification.team_id, Notification.round)))


async def page(
    session: AsyncSession,
    *,
    after: uuid.UUID | None,
    limit: int,
    team_id: uuid.UUID | None = None,
    decision_id: uuid.UUID | None = None,
    stage_id: uuid.UUID | None = None,
    current_only: bool = False,
) -> list[Notification]:
    query = select(Notification).order_by(Notification.id).limit(limit)
    if current_only:
        later = aliased(Notification)
        query = query.where(~select(later.id).where(later.supersedes_id == Notification.id).exists())
    if after is not None:
        query = query.where(Notification.id > after)
    if team_id is not None:
        query = query.where(Notification.team_id == team_id)
    if decision_id is not None:
        query = query.where(Notification.decision_id == decision_id)
    if stage_id is not None:
        query = query.where(Notification.stage_id == stage_id)
    return list(await session.scalars(query))


def window_of(notification: Notification) -> ObjectionWindow:
    """The window as stored when the team was notified (a later rule change never moves it)."""
    return ObjectionWindow(
        opens_at=notification.notified_at,
        closes_at=notification.closes_at,
        last_day=notification.last_day,
        objection_days=notification.objection_days,
    )
