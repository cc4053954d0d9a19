from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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


async def find(
    session: AsyncSession,
    decision_kind: DecisionKind,
    decision_id: uuid.UUID,
    team_id: uuid.UUID,
    *,
    lock: bool = False,
) -> Notification | None:
    """The team's notification of a decision; ``lock`` holds it until the transaction ends.

    Filings and the closing scheduler both lock it, so no filing can slip in after its window
    was closed (on SQLite, transactions are serial anyway).
    """
    query = select(Notification).where(
        Notification.decision_kind == decision_kind,
        Notification.decision_id == decision_id,
        Notification.team_id == team_id,
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def of_decision(
    session: AsyncSession, decision_kind: DecisionKind, decision_id: uuid.UUID
) -> list[Notification]:
    query = select(Notification).where(
        Notification.decision_kind == decision_kind, Notification.decision_id == decision_id
    )
    return list(await session.scalars(query.order_by(Notification.team_id)))


async def page(
    session: AsyncSession,
    *,
    after: uuid.UUID | None,
    limit: int,
    team_id: uuid.UUID | None = None,
    decision_id: uuid.UUID | None = None,
    stage_id: uuid.UUID | None = None,
) -> list[Notification]:
    query = select(Notification).order_by(Notification.id).limit(limit)
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
