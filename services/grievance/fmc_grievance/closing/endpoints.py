"""REST: where a decision's grievance phase stands (operators)."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from fmc_common.auth import Role
from fmc_common.errors import NotFound
from fmc_common.events.grievance import DecisionKind
from fmc_common.web.problems import problem_responses
from fmc_grievance.closing.models import DecisionClosing, WindowClosing
from fmc_grievance.context import ActorCtx
from fmc_grievance.notifications import repository as notifications
from fmc_grievance.notifications.models import Notification
from fmc_grievance.objections import repository as objections

router = APIRouter(prefix="/v1/decisions", tags=["closing"])


class GrievancePhase(BaseModel):
    decision_kind: DecisionKind
    decision_id: uuid.UUID
    stage_id: uuid.UUID
    windows: int
    windows_closed: int
    objections_by_status: dict[str, int]
    closed: bool = Field(
        description="GrievanceWindowClosed was emitted: every window closed, every objection decided"
    )
    closed_at: datetime | None
    event_id: str | None = Field(description="The id of the GrievanceWindowClosed event")


@router.get(
    "/{decision_kind}/{decision_id}/grievance",
    response_model=GrievancePhase,
    responses=problem_responses(401, 403, 404, 422),
    summary="Where a decision's grievance phase stands",
)
async def grievance_phase(
    decision_kind: DecisionKind, decision_id: uuid.UUID, ctx: ActorCtx
) -> GrievancePhase:
    """Windows closed so far, objections by status, and whether the phase is closed (operators)."""
    ctx.actor.require(Role.OPERATOR)
    windows = await notifications.of_decision(ctx.session, decision_kind, decision_id)
    if not windows:
        raise NotFound(f"no team was notified of {decision_kind.value} {decision_id}")
    closed_windows = await ctx.session.scalar(
        select(func.count())
        .select_from(WindowClosing)
        .join(Notification, Notification.id == WindowClosing.notification_id)
        .where(Notification.decision_kind == decision_kind.value, Notification.decision_id == decision_id)
    )
    closing = await ctx.session.get(DecisionClosing, (decision_kind.value, decision_id))
    return GrievancePhase(
        decision_kind=decision_kind,
        decision_id=decision_id,
        stage_id=windows[0].stage_id,
        windows=len(windows),
        windows_closed=int(closed_windows or 0),
        objections_by_status=await objections.counts_for_decision(ctx.session, decision_kind, decision_id),
        closed=closing is not None,
        closed_at=closing.closed_at if closing else None,
        event_id=closing.event_id if closing else None,
    )
