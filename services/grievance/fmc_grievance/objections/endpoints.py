"""REST: /v1/objections. A team files, amends, withdraws and reads its own; operators review and decide."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Header, Path, Query, Response, status

from fmc_common.auth import Role
from fmc_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, after_id, after_seq, next_cursor
from fmc_common.web.problems import problem_responses
from fmc_grievance.audit.schemas import AuditPage
from fmc_grievance.audit.views import audit_page
from fmc_grievance.deps import ActorCtx
from fmc_grievance.objections import repository, review, service, views
from fmc_grievance.objections.errors import AttachmentNotFound
from fmc_grievance.objections.models import ObjectionStatus
from fmc_grievance.objections.schemas import (
    DecisionIn,
    ObjectionAmend,
    ObjectionCreate,
    ObjectionOut,
    ObjectionPage,
    ReviewStart,
    VersionList,
    Withdrawal,
)

router = APIRouter(prefix="/v1/objections", tags=["objections"])
# The history is read from the audit trail: the published API lists it after the audit routes.
history_router = APIRouter(prefix="/v1/objections", tags=["audit"])

Cursor = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]

ClientKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="The client's key for this write: a retry with the same key and body gets the same reply",
    ),
]
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 413, 415, 422)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ObjectionOut,
    responses=WRITE_ERRORS,
    summary="File an objection",
)
async def file_objection(body: ObjectionCreate, ctx: ActorCtx, client_key: ClientKey) -> ObjectionOut:
    """A team objects to a decision it was notified of (its own team only), inside its window.

    Before the window opens: `objection-window-not-open`; after it closes: `objection-window-closed`
    with `deadline`, `closes_at` and `time_zone` in the problem body. The window runs until the end of
    the last day in Asia/Seoul (see `window` in the response). Attachments are checked for size and
    type (`attachment-too-large`, `attachment-type-not-allowed`) and stored with name, size and sha256.
    The `Idempotency-Key` header is required: a retry returns the same objection; the same key with
    another body is refused (`idempotency-key-reused`).
    """
    return await views.objection_out(ctx, await service.file(ctx, body, client_key))


@router.get(
    "", response_model=ObjectionPage, responses=problem_responses(401, 403, 422), summary="List objections"
)
async def list_objections(
    ctx: ActorCtx,
    decision_id: uuid.UUID | None = None,
    objection_status: Annotated[ObjectionStatus | None, Query(alias="status")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> ObjectionPage:
    """Operators see every objection; a team sees only its own (never another team's)."""
    actor = ctx.actor.require(Role.OPERATOR, Role.TEAM)
    rows = await repository.page(
        ctx.session,
        after=after_id(cursor),
        limit=limit + 1,
        team_id=actor.team_id if actor.role == Role.TEAM else None,
        decision_id=decision_id,
        statuses=[objection_status] if objection_status else None,
    )
    page = rows[:limit]
    return ObjectionPage(
        items=[views.summary(o) for o in page],
        next_cursor=next_cursor(page[-1].id if page else None, len(rows) > limit),
    )


@router.get(
    "/{objection_id}",
    response_model=ObjectionOut,
    responses=problem_responses(401, 403, 404),
    summary="One objection",
)
async def get_objection(objection_id: uuid.UUID, ctx: ActorCtx) -> ObjectionOut:
    """The current version, the window with its deadline, and the resolution once decided."""
    return await views.objection_out(ctx, await service.readable(ctx, objection_id))


@router.get(
    "/{objection_id}/versions",
    response_model=VersionList,
    responses=problem_responses(401, 403, 404),
    summary="Every version of an objection",
)
async def list_versions(objection_id: uuid.UUID, ctx: ActorCtx) -> VersionList:
    """Every version ever filed, oldest first (amendments never overwrite)."""
    return await views.versions_out(ctx, await service.readable(ctx, objection_id))


@router.post(
    "/{objection_id}/amendments",
    status_code=status.HTTP_201_CREATED,
    response_model=ObjectionOut,
    responses=WRITE_ERRORS,
    summary="Amend an objection",
)
async def amend_objection(
    objection_id: uuid.UUID, body: ObjectionAmend, ctx: ActorCtx, client_key: ClientKey
) -> ObjectionOut:
    """A new complete version (the team's own objection), until the window closes or the objection is decided.

    Attachments of earlier versions can be kept by giving their `sha256` instead of their content.
    """
    return await views.objection_out(ctx, await service.amend(ctx, objection_id, body, client_key))


@router.post(
    "/{objection_id}/withdrawal",
    response_model=ObjectionOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Withdraw an objection",
)
async def withdraw_objection(objection_id: uuid.UUID, body: Withdrawal, ctx: ActorCtx) -> ObjectionOut:
    """The team withdraws its own objection before it is decided, with a reason."""
    return await views.objection_out(ctx, await review.withdraw(ctx, objection_id, body.reason))


@router.post(
    "/{objection_id}/review",
    response_model=ObjectionOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Start reviewing an objection",
)
async def start_review(objection_id: uuid.UUID, body: ReviewStart, ctx: ActorCtx) -> ObjectionOut:
    """Operators: received → under review."""
    return await views.objection_out(ctx, await review.start_review(ctx, objection_id, body.note))


@router.post(
    "/{objection_id}/decision",
    response_model=ObjectionOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Decide an objection",
)
async def decide_objection(objection_id: uuid.UUID, body: DecisionIn, ctx: ActorCtx) -> ObjectionOut:
    """Operators: under review → accepted or rejected, with a written reason.

    Accepting an objection about the process, scoring or originality emits `ReEvaluationRequested`
    with its scope (`concerns`), and scoring recomputes what it concerns as a new result version.
    """
    return await views.objection_out(
        ctx, await review.decide(ctx, objection_id, body.outcome, body.reason, body.concerns)
    )


@router.get(
    "/{objection_id}/attachments/{sha256}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, **problem_responses(401, 403, 404)},
    summary="Download an attachment",
)
async def download_attachment(
    objection_id: uuid.UUID, sha256: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")], ctx: ActorCtx
) -> Response:
    """The stored bytes of an attachment of the objection (any version), with its media type."""
    objection = await service.readable(ctx, objection_id)
    listed = [a for a in await repository.attachments(ctx.session, objection.id) if a.sha256 == sha256]
    blob = await repository.blob(ctx.session, sha256) if listed else None
    if blob is None:
        raise AttachmentNotFound(f"objection {objection_id} has no attachment {sha256}")
    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(listed[-1].name)}",
        "X-Content-SHA256": sha256,
        "X-Content-Type-Options": "nosniff",
    }
    return Response(content=blob.content, media_type=listed[-1].media_type, headers=headers)


@history_router.get(
    "/{objection_id}/history",
    response_model=AuditPage,
    responses=problem_responses(401, 403, 404, 422),
    summary="History of an objection",
    tags=["objections"],
)
async def objection_history(
    objection_id: uuid.UUID, ctx: ActorCtx, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> AuditPage:
    """Every state change of the objection with actor, time and reason (its team, operators)."""
    rows = await service.history(ctx, objection_id, after=after_seq(cursor), limit=limit + 1)
    return audit_page(rows, limit)


def _quote(name: str) -> str:
    return quote(name, safe="")
