"""REST: /v1/notifications (operators notify and read all; a team reads its own)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from fmc_common.auth import Role
from fmc_common.errors import Forbidden
from fmc_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, after_id, next_cursor
from fmc_common.web.problems import problem_responses
from fmc_grievance.deps import ActorCtx
from fmc_grievance.notifications import repository, service, views
from fmc_grievance.notifications.schemas import NotificationList, NotificationOut, NotificationPage, NotifyIn

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=NotificationList,
    responses=problem_responses(401, 403, 409, 422),
    summary="Notify teams of a decision",
)
async def notify(body: NotifyIn, ctx: ActorCtx) -> NotificationList:
    """Record that teams were notified of a decision, which opens their objection windows (operators).

    For any decision, e.g. a `selection-decision` of the registry (its id is the selection call's id).
    Stage results are notified automatically when scoring publishes them. A team already notified of
    the decision with the same outcome and reason keeps its window (the call is safe to retry); a team
    whose outcome or reason changed gets a new notification and a fresh window, in a new round (the
    earlier one is kept). Once the decision's grievance phase has closed, `409 decision-already-closed`.
    Each window closes at the end of the `objection_days`-th day after the day of `notified_at`, in
    Asia/Seoul. Returns every listed team's notification in force.
    """
    ctx.actor.require(Role.OPERATOR)
    notice = service.Notice(
        decision_kind=body.decision.kind,
        decision_id=body.decision.id,
        stage_id=body.stage_id,
        programme_id=body.programme_id,
        notified_at=body.notified_at or ctx.clock.now(),
        objection_days=body.objection_days,
        teams=[service.TeamOutcome(t.team_id, t.outcome, t.reason_code) for t in body.teams],
    )
    created = await service.notify(ctx, notice)
    return NotificationList(items=[await views.notification_out(ctx, n) for n in created])


@router.get(
    "",
    response_model=NotificationPage,
    responses=problem_responses(401, 403, 422),
    summary="List notifications",
)
async def list_notifications(
    ctx: ActorCtx,
    stage_id: uuid.UUID | None = None,
    decision_id: uuid.UUID | None = None,
    current: Annotated[
        bool, Query(description="Only each team's latest notification of each decision (the one in force)")
    ] = False,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> NotificationPage:
    """Operators see every notification; a team sees only its own, with its window and deadline.

    A team notified again (a reversal, a reopening) has several notifications of a decision: the
    latest is `current`; the earlier ones stay as they were, each naming the one that replaced it.
    """
    actor = ctx.actor.require(Role.OPERATOR, Role.TEAM)
    team_id = actor.team_id if actor.role == Role.TEAM else None
    rows = await repository.page(
        ctx.session,
        after=after_id(cursor),
        limit=limit + 1,
        team_id=team_id,
        decision_id=decision_id,
        stage_id=stage_id,
        current_only=current,
    )
    page = rows[:limit]
    return NotificationPage(
        items=[await views.notification_out(ctx, n) for n in page],
        next_cursor=next_cursor(page[-1].id if page else None, len(rows) > limit),
    )


@router.get(
    "/{notification_id}",
    response_model=NotificationOut,
    responses=problem_responses(401, 403, 404),
    summary="One notification",
)
async def get_notification(notification_id: uuid.UUID, ctx: ActorCtx) -> NotificationOut:
    """Operators read any notification; a team only its own."""
    actor = ctx.actor.require(Role.OPERATOR, Role.TEAM)
    notification = await service.get(ctx, notification_id)
    if actor.role == Role.TEAM and actor.team_id != notification.team_id:
        raise Forbidden("a team may see only its own notifications")
    return await views.notification_out(ctx, notification)
