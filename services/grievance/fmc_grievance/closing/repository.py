"""Every query of the closing run and of a decision's grievance phase."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import exists, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.events.grievance import DecisionKind
from fmc_grievance.notifications.models import Notification
from fmc_grievance.upsert import insert_or_skip
from fmc_grievance.windows.models import DecisionClosing, WindowClosing

# Any fixed 64-bit number, the same in every replica: "the grievance closing run".
ADVISORY_LOCK_KEY = 7_301_552_907_331_001


async def hold_run_lock(session: AsyncSession) -> None:
    """One closing run at a time across replicas, until the transaction ends (SQLite is serial anyway).

    Taken before any row lock, so runs queue up behind each other and never deadlock.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})


async def due_windows(session: AsyncSession, now: datetime, limit: int) -> list[Notification]:
    """Notifications whose window has passed its deadline and was not closed yet, locked."""
    already = exists().where(WindowClosing.notification_id == Notification.id)
    query = (
        select(Notification)
        .where(Notification.closes_at <= now, ~already)
        .order_by(Notification.id)
        .limit(limit)
        # The lock waits for a filing in flight on the same window to commit (it is then counted).
        .with_for_update()
    )
    return list(await session.scalars(query))


async def close_window(session: AsyncSession, notification_id: uuid.UUID, now: datetime) -> bool:
    """Record the window's closing; False if another run recorded it first."""
    values = {"notification_id": notification_id, "closed_at": now}
    statement = insert_or_skip(session, WindowClosing, values, ["notification_id"]).returning(
        WindowClosing.notification_id
    )
    return (await session.execute(statement)).first() is not None


async def windows_closed(session: AsyncSession, decision_kind: DecisionKind, decision_id: uuid.UUID) -> int:
    query = (
        select(func.count())
        .select_from(WindowClosing)
        .join(Notification, Notification.id == WindowClosing.notification_id)
        .where(Notification.decision_kind == decision_kind, Notification.decision_id == decision_id)
    )
    return int(await session.scalar(query) or 0)


async def decisions_past_deadline(
    session: AsyncSession, now: datetime
) -> list[tuple[DecisionKind, uuid.UUID, uuid.UUID]]:
    """Decisions not closed yet whose last window has no later deadline than ``now``: kind, id, stage."""
    done = exists().where(
        DecisionClosing.decision_kind == Notification.decision_kind,
        DecisionClosing.decision_id == Notification.decision_id,
    )
    query = (
        select(Notification.decision_kind, Notification.decision_id, Notification.stage_id)
        .where(~done)
        .group_by(Notification.decision_kind, Notification.decision_id, Notification.stage_id)
        .having(func.max(Notification.closes_at) <= now)
    )
    return [(k, d, s) for k, d, s in (await session.execute(query)).all()]


async def close_decision(
    session: AsyncSession,
    decision_kind: DecisionKind,
    decision_id: uuid.UUID,
    stage_id: uuid.UUID,
    now: datetime,
) -> bool:
    """Record the decision's closing (its event id follows); False if another run recorded it first."""
    values = {
        "decision_kind": decision_kind,
        "decision_id": decision_id,
        "stage_id": stage_id,
        "closed_at": now,
        "event_id": "",
    }
    statement = insert_or_skip(session, DecisionClosing, values, ["decision_kind", "decision_id"]).returning(
        DecisionClosing.decision_id
    )
    return (await session.execute(statement)).first() is not None


async def set_event_id(
    session: AsyncSession, decision_kind: DecisionKind, decision_id: uuid.UUID, event_id: str
) -> None:
    await session.execute(
        update(DecisionClosing)
        .where(DecisionClosing.decision_kind == decision_kind, DecisionClosing.decision_id == decision_id)
        .values(event_id=event_id)
    )
