"""What callers read about a notification: the decision, the team's outcome, its window (closed or not),
and where it stands in the team's history of the decision (superseded by a later one, or current)."""

from __future__ import annotations

from fmc_grievance.decisions import DecisionRef
from fmc_grievance.deps import GrievanceCtx
from fmc_grievance.notifications import repository
from fmc_grievance.notifications.models import Notification
from fmc_grievance.notifications.schemas import NotificationOut
from fmc_grievance.windows import repository as closings
from fmc_grievance.windows.schemas import WindowOut


async def notification_out(ctx: GrievanceCtx, notification: Notification) -> NotificationOut:
    closed = await closings.window_closing(ctx.session, notification.id)
    later = await repository.superseded_by(ctx.session, notification.id)
    return NotificationOut(
        id=notification.id,
        decision=DecisionRef(kind=notification.decision_kind, id=notification.decision_id),
        stage_id=notification.stage_id,
        programme_id=notification.programme_id,
        team_id=notification.team_id,
        outcome=notification.outcome,
        reason_code=notification.reason_code,
        notified_at=notification.notified_at,
        window=WindowOut.of(repository.window_of(notification), ctx.clock.now()),
        window_closed=closed is not None,
        round=notification.round,
        result_version=notification.result_version,
        supersedes_notification_id=notification.supersedes_id,
        superseded_by_notification_id=later.id if later is not None else None,
        current=later is None,
        reopening_id=notification.reopening_id,
    )
