"""Recording notifications (from published results, or by an operator for any decision)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fmc_common.errors import Conflict, NotFound
from fmc_common.events.grievance import DecisionKind, TeamNotified
from fmc_common.events.scoring import StageResultsPublished
from fmc_grievance.audit import service as audit
from fmc_grievance.deps import GrievanceCtx
from fmc_grievance.notifications import repository
from fmc_grievance.notifications.models import Notification, Outcome
from fmc_grievance.windows import repository as closings
from fmc_grievance.windows.deadline import window_for


class NotificationNotFound(NotFound):
    code = "notification-not-found"
    title = "No such notification"


class DecisionAlreadyClosed(Conflict):
    code = "decision-already-closed"
    title = "The grievance phase of this decision is over; no team can be notified of it any more"


@dataclass(frozen=True)
class TeamOutcome:
    team_id: uuid.UUID
    outcome: Outcome | None = None
    reason_code: str | None = None


@dataclass(frozen=True)
class Notice:
    """A decision told to some teams at one time, with the number of days they have to object."""

    decision_kind: DecisionKind
    decision_id: uuid.UUID
    stage_id: uuid.UUID
    programme_id: uuid.UUID | None
    notified_at: datetime
    objection_days: int
    teams: Sequence[TeamOutcome]


async def notify(ctx: GrievanceCtx, notice: Notice) -> list[Notification]:
    """One notification per team (a team already notified of the decision keeps its window).

    Each new one is audited and announced (``TeamNotified``) in the caller's transaction.
    """
    closed = await closings.decision_closing(ctx.session, notice.decision_kind, notice.decision_id)
    notifications: list[Notification] = []
    for team in notice.teams:
        existing = await repository.find(ctx.session, notice.decision_kind, notice.decision_id, team.team_id)
        if existing is not None:
            notifications.append(existing)
            continue
        if closed is not None:
            raise DecisionAlreadyClosed(
                f"the grievance phase of {notice.decision_kind} {notice.decision_id} closed"
                f" at {closed.closed_at.isoformat()}"
            )
        notifications.append(await _record(ctx, notice, team))
    return notifications


async def _record(ctx: GrievanceCtx, notice: Notice, team: TeamOutcome) -> Notification:
    window = window_for(notice.notified_at, notice.objection_days)
    notification = Notification(
        id=uuid.uuid4(),
        decision_kind=notice.decision_kind,
        decision_id=notice.decision_id,
        stage_id=notice.stage_id,
        programme_id=notice.programme_id,
        team_id=team.team_id,
        outcome=team.outcome,
        reason_code=team.reason_code,
        notified_at=window.opens_at,
        objection_days=window.objection_days,
        last_day=window.last_day,
        closes_at=window.closes_at,
        recorded_at=ctx.clock.now(),
    )
    ctx.session.add(notification)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="notification.recorded",
        entity_type="notification",
        entity_id=notification.id,
        team_id=team.team_id,
        details={
            "decision_kind": notice.decision_kind,
            "decision_id": str(notice.decision_id),
            "stage_id": str(notice.stage_id),
            "notified_at": window.opens_at.isoformat(),
            "deadline": window.deadline.isoformat(),
            "time_zone": window.time_zone,
        },
    )
    await ctx.outbox.add(
        ctx.session,
        TeamNotified(
            stage_id=notice.stage_id,
            decision_kind=notice.decision_kind,
            decision_id=notice.decision_id,
            notification_id=notification.id,
            team_id=team.team_id,
            notified_at=window.opens_at,
            objection_days=window.objection_days,
            deadline=window.deadline,
            window_closes_at=window.closes_at,
            time_zone=window.time_zone,
        ),
    )
    return notification


async def on_results_published(ctx: GrievanceCtx, event: StageResultsPublished) -> list[Notification]:
    """Scoring published a stage's result: every team listed was notified at ``published_at``."""
    notice = Notice(
        decision_kind=DecisionKind.STAGE_RESULT,
        decision_id=event.stage_id,
        stage_id=event.stage_id,
        programme_id=event.programme_id,
        notified_at=event.published_at,
        objection_days=event.objection_days,
        teams=[TeamOutcome(t.team_id, Outcome(t.outcome), t.reason_code) for t in event.teams],
    )
    return await notify(ctx, notice)


async def get(ctx: GrievanceCtx, notification_id: uuid.UUID) -> Notification:
    notification = await repository.get(ctx.session, notification_id)
    if notification is None:
        raise NotificationNotFound(f"no notification with id {notification_id}")
    return notification
