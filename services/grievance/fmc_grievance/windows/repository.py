"""Queries of the closing records (writing them is the closing run's; reading them is everyone's)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.events.grievance import DecisionKind
from fmc_grievance.windows.models import DecisionClosing, WindowClosing


async def window_closing(session: AsyncSession, notification_id: uuid.UUID) -> WindowClosing | None:
    """When the scheduler closed the window a notification opened (None while it has not)."""
    return await session.get(WindowClosing, notification_id)


async def decision_closing(
    session: AsyncSession, decision_kind: DecisionKind, decision_id: uuid.UUID
) -> DecisionClosing | None:
    """When a decision's grievance phase closed (None while it has not)."""
    return await session.get(DecisionClosing, (decision_kind, decision_id))
