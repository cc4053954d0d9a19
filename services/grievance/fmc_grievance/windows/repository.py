"""Queries of the closing records (writing them is the closing run's; reading them is everyone's)."""

from __future__ import annotations

import uuid

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.events.grievance import DecisionKind
from fmc_grievance.windows.models import DecisionClosing, WindowClosing

# Any fixed 64-bit number, the same in every replica: "the grievance closing run".
CLOSING_LOCK_KEY = 7_301_552_907_331_001


async def window_closing(session: AsyncSession, notification_id: uuid.UUID) -> WindowClosing | None:
    """When the scheduler closed the window a notification opened (None while it has not)."""
    return await session.get(WindowClosing, notification_id)


async def decision_closing(
    session: AsyncSession, decision_kind: DecisionKind, decision_id: uuid.UUID, round_: int
) -> DecisionClosing | None:
    """When a decision's grievance phase closed as of ``round_`` (None while it has not)."""
    return await session.get(DecisionClosing, (decision_kind, decision_id, round_))


async def previous_closing(
    session: AsyncSession, decision_kind: DecisionKind, decision_id: uuid.UUID, before_round: int
) -> DecisionClosing | None:
    """The decision's latest closing of a round before ``before_round`` (None if it never closed)."""
    query = (
        select(DecisionClosing)
        .where(
            DecisionClosing.decision_kind == decision_kind,
            DecisionClosing.decision_id == decision_id,
            DecisionClosing.round < before_round,
        )
        .order_by(DecisionClosing.round.desc())
        .limit(1)
    )
    return await session.scalar(query)


async def hold_closing_lock(session: AsyncSession) -> None:
    """One closing run, or one notice opening windows, at a time across replicas (SQLite is serial).

    Held until the transaction ends. A notice takes it too, so that a closing run never closes a
    round while a notice adds a window to it in a transaction the run cannot see yet.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLOSING_LOCK_KEY})
