"""Closing windows past their deadline, and closing a decision's grievance phase when it is over.

Driven by the clock, not by timers: each run closes every window whose ``closes_at`` is not after
``now`` and that has no closing yet, so a run after downtime catches up on everything it missed
(never skips), and the closing rows' primary keys make every closing happen once (never repeats).
A decision's phase closes when every window of it is closed and every objection decided; that
writes one ``decision_closings`` row and one ``GrievanceWindowClosed`` in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import exists, func, select, update

from fmc_common.events.grievance import DecisionKind, GrievanceWindowClosed
from fmc_grievance.audit import service as audit
from fmc_grievance.closing.models import DecisionClosing, WindowClosing
from fmc_grievance.context import Ctx
from fmc_grievance.notifications import repository as notifications
from fmc_grievance.notifications.models import Notification
from fmc_grievance.objections import repository as objections
from fmc_grievance.objections.models import ObjectionStatus
from fmc_grievance.upsert import insert_or_skip

BATCH = 500


@dataclass
class ClosingRun:
    windows_closed: int = 0
    decisions_closed: list[tuple[str, uuid.UUID]] = field(default_factory=list)


async def close_due_windows(ctx: Ctx) -> int:
    """Close every window whose deadline has passed; returns how many this run closed."""
    closed = 0
    while True:
        due = await _due(ctx)
        for notification in due:
            closed += await _close_window(ctx, notification)
        if len(due) < BATCH:
            return closed


async def _due(ctx: Ctx) -> list[Notification]:
    already = exists().where(WindowClosing.notification_id == Notification.id)
    query = (
        select(Notification)
        .where(Notification.closes_at <= ctx.clock.now(), ~already)
        .order_by(Notification.id)
        .limit(BATCH)
        # The lock waits for a filing in flight on the same window to commit (it is then counted).
        .with_for_update()
    )
    return list(await ctx.session.scalars(query))


async def _close_window(ctx: Ctx, notification: Notification) -> int:
    now = ctx.clock.now()
    values = {"notification_id": notification.id, "closed_at": now}
    statement = insert_or_skip(ctx.session, WindowClosing, values, ["notification_id"]).returning(
        WindowClosing.notification_id
    )
    if (await ctx.session.execute(statement)).first() is None:
        return 0  # another run closed it first
    window = notifications.window_of(notification)
    await audit.record(
        ctx,
        action="window.closed",
        entity_type="notification",
        entity_id=notification.id,
        team_id=notification.team_id,
        details={
            "decision_kind": notification.decision_kind,
            "decision_id": str(notification.decision_id),
            "deadline": window.deadline.isoformat(),
            "time_zone": window.time_zone,
        },
    )
    return 1


async def close_finished_decisions(ctx: Ctx) -> list[tuple[str, uuid.UUID]]:
    """Close the grievance phase of every decision whose windows are all closed and objections all decided."""
    finished: list[tuple[str, uuid.UUID]] = []
    for kind, decision_id, stage_id in await _candidates(ctx):
        if await _close_decision(ctx, DecisionKind(kind), decision_id, stage_id):
            finished.append((kind, decision_id))
    return finished


async def _candidates(ctx: Ctx) -> list[tuple[str, uuid.UUID, uuid.UUID]]:
    """Decisions not closed yet whose last window has no later deadline than now."""
    done = exists().where(
        DecisionClosing.decision_kind == Notification.decision_kind,
        DecisionClosing.decision_id == Notification.decision_id,
    )
    query = (
        select(Notification.decision_kind, Notification.decision_id, Notification.stage_id)
        .where(~done)
        .group_by(Notification.decision_kind, Notification.decision_id, Notification.stage_id)
        .having(func.max(Notification.closes_at) <= ctx.clock.now())
    )
    return [(str(k), d, s) for k, d, s in (await ctx.session.execute(query)).all()]


async def _close_decision(ctx: Ctx, kind: DecisionKind, decision_id: uuid.UUID, stage_id: uuid.UUID) -> bool:
    session = ctx.session
    windows = await notifications.of_decision(session, kind, decision_id)
    closed = await session.scalar(
        select(func.count())
        .select_from(WindowClosing)
        .join(Notification, Notification.id == WindowClosing.notification_id)
        .where(Notification.decision_kind == kind.value, Notification.decision_id == decision_id)
    )
    if closed != len(windows) or await objections.undecided_count(session, kind, decision_id) > 0:
        return False
    now = ctx.clock.now()
    values = {
        "decision_kind": kind.value,
        "decision_id": decision_id,
        "stage_id": stage_id,
        "closed_at": now,
        "event_id": "",
    }
    statement = insert_or_skip(session, DecisionClosing, values, ["decision_kind", "decision_id"]).returning(
        DecisionClosing.decision_id
    )
    if (await session.execute(statement)).first() is None:
        return False
    counts = await objections.counts_for_decision(session, kind, decision_id)
    requests = await objections.re_evaluations_of(session, kind, decision_id)
    event = GrievanceWindowClosed(
        stage_id=stage_id,
        decision_kind=kind,
        decision_id=decision_id,
        windows_closed=len(windows),
        objections_total=sum(counts.values()),
        objections_accepted=counts.get(ObjectionStatus.ACCEPTED.value, 0),
        re_evaluation_request_ids=[r.id for r in requests],
        closed_at=now,
    )
    await audit.record(
        ctx,
        action="decision.grievance-closed",
        entity_type="decision",
        entity_id=decision_id,
        details={"decision_kind": kind.value, "stage_id": str(stage_id), **_counts(event)},
    )
    event_id = await ctx.outbox.add(session, event)
    await session.execute(
        update(DecisionClosing)
        .where(DecisionClosing.decision_kind == kind.value, DecisionClosing.decision_id == decision_id)
        .values(event_id=event_id)
    )
    return True


def _counts(event: GrievanceWindowClosed) -> dict[str, object]:
    return {
        "windows_closed": event.windows_closed,
        "objections_total": event.objections_total,
        "objections_accepted": event.objections_accepted,
        "re_evaluation_request_ids": [str(i) for i in event.re_evaluation_request_ids],
    }
