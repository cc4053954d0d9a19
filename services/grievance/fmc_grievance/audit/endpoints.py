"""REST: the audit trail and its verification (operators). An objection's history is an objections route."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from fmc_common.audit.reading import MAX_SEQ, anchor_of, verification
from fmc_common.audit.schemas import ChainVerification
from fmc_common.auth import Role
from fmc_common.inputs import QueryText
from fmc_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, after_seq
from fmc_common.web.problems import problem_responses
from fmc_grievance.audit import service
from fmc_grievance.audit.schemas import AuditPage
from fmc_grievance.audit.views import audit_page
from fmc_grievance.deps import ActorCtx

router = APIRouter(tags=["audit"])


@router.get(
    "/v1/audit", response_model=AuditPage, responses=problem_responses(401, 403, 422), summary="Audit trail"
)
async def list_audit_entries(
    ctx: ActorCtx,
    entity_id: Annotated[QueryText | None, Query(max_length=64)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> AuditPage:
    """Every change (who, when, what, why) in order, with each entry's hash and its predecessor's (operators).

    Append-only: no endpoint changes it, and the database refuses updates and deletes of its rows.
    """
    ctx.actor.require(Role.OPERATOR)
    rows = await service.page(ctx.session, entity_id=entity_id, after=after_seq(cursor), limit=limit + 1)
    return audit_page(rows, limit)


@router.get(
    "/v1/audit/verification",
    response_model=ChainVerification,
    responses=problem_responses(401, 403, 422),
    summary="Verify the audit trail's hash chain",
)
async def verify_audit_chain(
    ctx: ActorCtx,
    anchor_seq: Annotated[int | None, Query(ge=1, le=MAX_SEQ, description="A checkpoint's `seq`")] = None,
    anchor_hash: Annotated[
        str | None, Query(pattern="^[0-9a-f]{64}$", description="The same checkpoint's `hash`")
    ] = None,
) -> ChainVerification:
    """Recompute every entry's hash from its stored content and check the links (operators).

    Says whether the chain is intact and, if not, the first entry where it breaks and how; returns the
    head it verified (sequence number, hash, time), to be kept elsewhere. Given an anchor (a checkpoint
    kept elsewhere, `anchor_seq` and `anchor_hash` together), the chain must still hold that entry with
    that hash: a tail removed with the head rewound, or rewritten with its hashes recomputed, is
    `anchor-mismatch` at the anchor's sequence number.
    """
    ctx.actor.require(Role.OPERATOR)
    report = await service.verify(ctx.session, anchor_of(anchor_seq, anchor_hash))
    return verification(report, ctx.clock.now())
