"""Closing windows past their deadline, and closing a decision's grievance phase when it is over.

Driven by the clock, not by timers: each run closes every window whose ``closes_at`` is not after
``now`` and that has no closing yet, so a run after downtime catches up on everything it missed
(never skips), and the closing rows' primary keys make every closing happen once (never repeats).
A decision's phase closes when every window of every round is closed and every objection decided;
that writes one ``decision_closings`` row for the decision's latest round and one
``GrievanceWindowClosed`` in the same transaction. A later round (a reversal notified after the
closing, the reopening of a final stage) makes the decision close again, once more, when it is over.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from fmc_common.errors import NotFound
from fmc_common.events.grievance import DecisionKind, GrievanceWindowClosed
from fmc_grievance.audit import service as audit
from fmc_grievance.closing import repository
from fmc_grievance.closing.schemas import GrievancePhase
from fmc_grievance.deps import GrievanceCtx
from fmc_grievance.notifications import repository as notifications
from fmc_grievance.notifications.models import Notification
from fmc_grievance.objections import repository as objections
from fmc_grievance.objections.models import ObjectionStatus
from fmc_grievance.windows import repository as closings

BATCH = 500


@dataclass
class ClosingRun:
    windows_closed: int = 0
    decisions_closed: list[tuple[DecisionKind, uuid.UUID, int]] = field(default_factory=list)


async def close_due_windows(ctx: GrievanceCtx) -> int:
    """Close every window whose deadline has passed; returns how many this run closed."""
    closed = 0
    while True:
        due = await repository.due_windows(ctx.session, ctx.clock.now(), BATCH)
        for notification in due:
            closed += await _close_window(ctx, notification)
        if len(due) < BATCH:
            return closed


async def _close_window(ctx: GrievanceCtx, notification: Notification) -> int:
    if not await repository.close_window(ctx.session, notification.id, ctx.clock.now()):
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


async def close_finished_decisions(ctx: GrievanceCtx) -> list[tuple[DecisionKind, uuid.UUID, int]]:
    """Close the latest round of every decision whose windows are all closed and objections all decided."""
    finished: list[tuple[DecisionKind, uuid.UUID, int]] = []
    now = ctx.clock.now()
    for kind, decision_id, stage_id, round_ in await repository.decisions_past_deadline(ctx.session, now):
        if await _close_decision(ctx, kind, decision_id, stage_id, round_):
            finished.append((kind, decision_id, round_))
    return finished


async def _close_decision(
    ctx: GrievanceCtx, kind: DecisionKind, decision_id: uuid.UUID, stage_id: uuid.UUID, round_: int
) -> bool:
    session = ctx.session
    windows = await notifications.of_decision(session, kind, decision_id)
    closed = await repository.windows_closed(session, kind, decision_id)
    if closed != len(windows) or await objections.undecided_count(session, kind, decision_id) > 0:
        return False
    now = ctx.clock.now()
    if not await repository.close_decision(session, kind, decision_id, stage_id, round_, now):
        return False
    counts = await objections.counts_for_decision(session, kind, decision_id)
    previous = await closings.previous_closing(session, kind, decision_id, round_)
    after = previous.round if previous is not None else 0
    requests = await repository.re_evaluations_after_round(session, kind, decision_id, after)
    event = GrievanceWindowClosed(
        stage_id=stage_id,
        decision_kind=kind,
        decision_id=decision_id,
        windows_closed=len(windows),
        objections_total=sum(counts.values()),
        objections_accepted=counts.get(ObjectionStatus.ACCEPTED, 0),
        re_evaluation_request_ids=[r.id for r in requests],
        closed_at=now,
        round=round_,
    )
    await audit.record(
        ctx,
        action="decision.grievance-closed",
        entity_type="decision",
        entity_id=decision_id,
        details={"decision_kind": kind, "stage_id": str(stage_id), "round": round_, **_counts(event)},
    )
    event_id = await ctx.outbox.add(session, event)
    await repository.set_event_id(session, kind, decision_id, round_, event_id)
    return True


async def phase(ctx: GrievanceCtx, kind: DecisionKind, decision_id: uuid.UUID) -> GrievancePhase:
    """Windows closed so far, objections by status, and whether the decision's phase closed."""
    windows = await notifications.of_decision(ctx.session, kind, decision_id)
    if not windows:
        raise NotFound(f"no team was notified of {kind} {decision_id}")
    round_ = max(n.round for n in windows)
    closing = await closings.decision_closing(ctx.session, kind, decision_id, round_)
    return GrievancePhase(
        decision_kind=kind,
        decision_id=decision_id,
        stage_id=windows[0].stage_id,
        round=round_,
        windows=len(windows),
        windows_closed=await repository.windows_closed(ctx.session, kind, decision_id),
        objections_by_status=await objections.counts_for_decision(ctx.session, kind, decision_id),
        closed=closing is not None,
        closed_at=closing.closed_at if closing else None,
        event_id=closing.event_id if closing else None,
    )


def _counts(event: GrievanceWindowClosed) -> dict[str, object]:
    return {
        "windows_closed": event.windows_closed,
        "objections_total": event.objections_total,
        "objections_accepted": event.objections_accepted,
        "re_evaluation_request_ids": [str(i) for i in event.re_evaluation_request_ids],
    }
