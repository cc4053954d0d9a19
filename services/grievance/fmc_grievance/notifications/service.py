"""Recording notifications (from published results, or by an operator for any decision)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fmc_common.errors import Conflict, NotFound
from fmc_common.events.grievance import DecisionKind, TeamNotified
from fmc_common.events.scoring import StageReopened, StageResultsPublished
from fmc_grievance.audit import service as audit
from fmc_grievance.deps import GrievanceCtx
from fmc_grievance.notifications import repository
from fmc_grievance.notifications.models import Notification, Outcome
from fmc_grievance.windows import repository as closings
from fmc_grievance.windows.deadline import window_for

log = logging.getLogger(__name__)


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
class Reopening:
    """The reopening of a final stage that this notice announces (every team gets a fresh window)."""

    reopening_id: uuid.UUID
    reason: str
    reopened_by: str


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
    result_version: int | None = None
    reopening: Reopening | None = None


async def notify(ctx: GrievanceCtx, notice: Notice, *, after_closing: bool = False) -> list[Notification]:
    """Notify the teams the notice tells something new; each other team keeps its window.

    A team is notified when it has no notification of the decision yet, when its outcome or reason
    differs from its latest one (a reversal: the new notification supersedes the earlier one, which
    is kept), and, for a reopening, always. Returns every listed team's notification in force.

    A notice that notifies an already-notified team, a reopening, and any notice once the phase has
    closed open the decision's next round (``after_closing`` must then allow it: a notice from scoring
    does; an operator's does not, which is ``409 decision-already-closed``); teams notified for the
    first time while the round is open join it. Each new notification is audited and announced
    (``TeamNotified``) in the caller's transaction.
    """
    session = ctx.session
    # Serialised with the closing run: a round never closes while a window is being added to it.
    await closings.hold_closing_lock(session)
    latest = await repository.latest_of_decision(session, notice.decision_kind, notice.decision_id)
    to_notify = [t for t in notice.teams if _is_news(notice, latest.get(t.team_id), t)]
    if not to_notify:
        return [latest[t.team_id] for t in notice.teams]
    round_ = await _round_for(ctx, notice, latest, to_notify, after_closing=after_closing)
    created: dict[uuid.UUID, Notification] = {}
    for team in to_notify:
        created[team.team_id] = await _record(ctx, notice, team, round_, latest.get(team.team_id))
    return [created.get(t.team_id) or latest[t.team_id] for t in notice.teams]


def _is_news(notice: Notice, latest: Notification | None, team: TeamOutcome) -> bool:
    if latest is None or notice.reopening is not None:
        return True
    return (latest.outcome, latest.reason_code) != (team.outcome, team.reason_code)


async def _round_for(
    ctx: GrievanceCtx,
    notice: Notice,
    latest: dict[uuid.UUID, Notification],
    to_notify: Sequence[TeamOutcome],
    *,
    after_closing: bool,
) -> int:
    """The round the notice's new notifications belong to; a new round is audited with its cause."""
    current = await repository.current_round(ctx.session, notice.decision_kind, notice.decision_id)
    if current == 0:
        return 1
    closed = await closings.decision_closing(ctx.session, notice.decision_kind, notice.decision_id, current)
    reversed_teams = [t.team_id for t in to_notify if t.team_id in latest]
    if closed is None and notice.reopening is None and not reversed_teams:
        return current  # teams notified for the first time join the open round
    if closed is not None and not after_closing:
        raise DecisionAlreadyClosed(
            f"the grievance phase of {notice.decision_kind} {notice.decision_id} closed"
            f" at {closed.closed_at.isoformat()}"
        )
    if notice.reopening is not None:
        cause = "reopening"
    else:
        cause = "reversal" if reversed_teams else "notified-after-closing"
    await audit.record(
        ctx,
        action="decision.round-opened",
        entity_type="decision",
        entity_id=notice.decision_id,
        reason=notice.reopening.reason if notice.reopening is not None else None,
        details={
            "decision_kind": notice.decision_kind,
            "stage_id": str(notice.stage_id),
            "round": current + 1,
            "cause": cause,
            "after_closing": closed is not None,
            "result_version": notice.result_version,
            "reversed_teams": [str(t) for t in reversed_teams],
            "teams_notified": len(to_notify),
            **_reopening_details(notice.reopening),
        },
    )
    return current + 1


def _reopening_details(reopening: Reopening | None) -> dict[str, str]:
    if reopening is None:
        return {}
    return {"reopening_id": str(reopening.reopening_id), "reopened_by": reopening.reopened_by}


async def _record(
    ctx: GrievanceCtx, notice: Notice, team: TeamOutcome, round_: int, previous: Notification | None
) -> Notification:
    window = window_for(notice.notified_at, notice.objection_days)
    reopening = notice.reopening
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
        round=round_,
        result_version=notice.result_version,
        supersedes_id=previous.id if previous is not None else None,
        reopening_id=reopening.reopening_id if reopening is not None else None,
    )
    ctx.session.add(notification)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="notification.recorded",
        entity_type="notification",
        entity_id=notification.id,
        team_id=team.team_id,
        reason=reopening.reason if reopening is not None else None,
        details={
            "decision_kind": notice.decision_kind,
            "decision_id": str(notice.decision_id),
            "stage_id": str(notice.stage_id),
            "notified_at": window.opens_at.isoformat(),
            "deadline": window.deadline.isoformat(),
            "time_zone": window.time_zone,
            "round": round_,
            "outcome": team.outcome,
            "reason_code": team.reason_code,
            "result_version": notice.result_version,
            "supersedes": _superseded(previous),
            **_reopening_details(reopening),
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
            round=round_,
            result_version=notice.result_version,
            supersedes_notification_id=notification.supersedes_id,
            reopening_id=notification.reopening_id,
        ),
    )
    return notification


def _superseded(previous: Notification | None) -> dict[str, object] | None:
    """What the team had been told before (kept unchanged), for the audit entry of a reversal."""
    if previous is None:
        return None
    return {
        "notification_id": str(previous.id),
        "round": previous.round,
        "outcome": previous.outcome,
        "reason_code": previous.reason_code,
        "result_version": previous.result_version,
    }


async def on_results_published(ctx: GrievanceCtx, event: StageResultsPublished) -> list[Notification]:
    """Scoring published a version of a stage's result: the teams it tells something new are notified.

    A version older than one already notified (a late copy) changes nothing. A reversal after the
    stage's grievance phase closed opens a new round rather than being refused.
    """
    kind = DecisionKind.STAGE_RESULT
    known = await repository.latest_result_version(ctx.session, kind, event.stage_id)
    if known is not None and event.version < known:
        log.warning(
            "stale stage result ignored",
            extra={"stage_id": str(event.stage_id), "version": event.version, "notified_version": known},
        )
        return []
    notice = Notice(
        decision_kind=kind,
        decision_id=event.stage_id,
        stage_id=event.stage_id,
        programme_id=event.programme_id,
        notified_at=event.published_at,
        objection_days=event.objection_days,
        teams=[TeamOutcome(t.team_id, Outcome(t.outcome), t.reason_code) for t in event.teams],
        result_version=event.version,
    )
    return await notify(ctx, notice, after_closing=True)


async def on_stage_reopened(ctx: GrievanceCtx, event: StageReopened) -> list[Notification]:
    """An operator reopened a final stage: every team listed gets a fresh window, in a new round.

    Once per reopening: a second copy of the event (a new envelope) finds its notifications.
    """
    existing = await repository.of_reopening(ctx.session, event.reopening_id)
    if existing:
        return existing
    notice = Notice(
        decision_kind=DecisionKind.STAGE_RESULT,
        decision_id=event.stage_id,
        stage_id=event.stage_id,
        programme_id=event.programme_id,
        notified_at=event.reopened_at,
        objection_days=event.objection_days,
        teams=[TeamOutcome(t.team_id, Outcome(t.outcome), t.reason_code) for t in event.teams],
        result_version=event.version,
        reopening=Reopening(event.reopening_id, event.reason, event.reopened_by),
    )
    return await notify(ctx, notice, after_closing=True)


async def get(ctx: GrievanceCtx, notification_id: uuid.UUID) -> Notification:
    notification = await repository.get(ctx.session, notification_id)
    if notification is None:
        raise NotificationNotFound(f"no notification with id {notification_id}")
    return notification
