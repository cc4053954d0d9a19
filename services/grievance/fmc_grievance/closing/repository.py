"""Every query of the closing run and of a decision's grievance phase."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.events.grievance import DecisionKind
from fmc_grievance.notifications.models import Notification
from fmc_grievance.objections.models import Objection, ReEvaluation
from fmc_grievance.upsert import insert_or_skip
from fmc_grievance.windows import repository as closings
from fmc_grievance.windows.models import DecisionClosing, WindowClosing


async def hold_run_lock(session: AsyncSession) -> None:
    """One closing run at a time across replicas, until the transaction ends (SQLite is serial anyway).

    Taken before any row lock, so runs queue up behind each other and never deadlock. Notices that
    open windows take the same lock (``windows.repository.hold_closing_lock``).
    """
    await closings.hold_closing_lock(session)


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
) -> list[tuple[DecisionKind, uuid.UUID, uuid.UUID, int]]:
    """Decisions whose latest round is not closed and whose last window has no later deadline than
    ``now``: kind, id, stage, latest round."""
    latest = (
        select(
            Notification.decision_kind.label("kind"),
            Notification.decision_id.label("decision_id"),
            Notification.stage_id.label("stage_id"),
            func.max(Notification.round).label("round"),
        )
        .group_by(Notification.decision_kind, Notification.decision_id, Notification.stage_id)
        .having(func.max(Notification.closes_at) <= now)
        .subquery()
    )
    done = exists().where(
        and_(
            DecisionClosing.decision_kind == latest.c.kind,
            DecisionClosing.decision_id == latest.c.decision_id,
            DecisionClosing.round == latest.c.round,
        )
    )
    query = select(latest.c.kind, latest.c.decision_id, latest.c.stage_id, latest.c.round).where(~done)
    return [(DecisionKind(k), d, s, int(r)) for k, d, s, r in (await session.execute(query)).all()]


async def close_decision(
    session: AsyncSession,
    decision_kind: DecisionKind,
    decision_id: uuid.UUID,
    stage_id: uuid.UUID,
    round_: int,
    now: datetime,
) -> bool:
    """Record the round's closing (its event id follows); False if another run recorded it first."""
    values = {
        "decision_kind": decision_kind,
        "decision_id": decision_id,
        "round": round_,
        "stage_id": stage_id,
        "closed_at": now,
        "event_id": "",
    }
    keys = ["decision_kind", "decision_id", "round"]
    statement = insert_or_skip(session, DecisionClosing, values, keys).returning(DecisionClosing.decision_id)
    return (await session.execute(statement)).first() is not None


async def set_event_id(
    session: AsyncSession, decision_kind: DecisionKind, decision_id: uuid.UUID, round_: int, event_id: str
) -> None:
    await session.execute(
        update(DecisionClosing)
        .where(
            DecisionClosing.decision_kind == decision_kind,
            DecisionClosing.decision_id == decision_id,
            DecisionClosing.round == round_,
        )
        .values(event_id=event_id)
    )


async def re_evaluations_after_round(
    session: AsyncSession, decision_kind: DecisionKind, decision_id: uuid.UUID, after_round: int
) -> list[ReEvaluation]:
    """Re-evaluations asked by objections filed in windows of rounds after ``after_round``.

    Every objection in a window of a round that closed was decided before that closing, and its
    request listed there; so these are the requests no closing has announced yet.
    """
    query = (
        select(ReEvaluation)
        .join(Objection, Objection.id == ReEvaluation.objection_id)
        .join(Notification, Notification.id == Objection.notification_id)
        .where(
            ReEvaluation.decision_kind == decision_kind,
            ReEvaluation.decision_id == decision_id,
            Notification.round > after_round,
        )
        .order_by(ReEvaluation.requested_at, ReEvaluation.id)
    )
    return list(await session.scalars(query))
