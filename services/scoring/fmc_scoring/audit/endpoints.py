"""REST: scoring's audit trail and its verification (operators; nobody can change it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from fmc_common.audit.reading import MAX_SEQ, anchor_of, chained_page, verification
from fmc_common.audit.schemas import ChainedAuditPage, ChainVerification
from fmc_common.inputs import QueryText
from fmc_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, after_seq
from fmc_common.web.problems import problem_responses
from fmc_scoring.audit import service
from fmc_scoring.deps import OperatorCtx

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get(
    "", response_model=ChainedAuditPage, responses=problem_responses(401, 403, 422), summary="Audit trail"
)
async def list_audit_entries(
    ctx: OperatorCtx,
    entity_id: Annotated[QueryText | None, Query(max_length=64)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> ChainedAuditPage:
    """Every decision of scoring (who, when, what, why) in order, optionally for one entity, with each
    entry's hash and its predecessor's (operators): criteria, planning, grading, results, reopenings.

    Append-only: no endpoint changes it, and the database refuses updates and deletes of its rows.
    """
    rows = await service.page(ctx.session, entity_id=entity_id, after=after_seq(cursor), limit=limit + 1)
    return chained_page(rows, limit)


@router.get(
    "/verification",
    response_model=ChainVerification,
    responses=problem_responses(401, 403, 422),
    summary="Verify the audit trail's hash chain",
)
async def verify_audit_chain(
    ctx: OperatorCtx,
    anchor_seq: Annotated[
        int | None, Query(ge=1, le=MAX_SEQ, description="A head kept earlier: its `seq`")
    ] = None,
    anchor_hash: Annotated[
        str | None, Query(pattern="^[0-9a-f]{64}$", description="The same head's `hash`")
    ] = None,
) -> ChainVerification:
    """Recompute every entry's hash from its stored content and check the links (operators), as
    grievance's verification does: whether the chain is intact and, if not, where and how it breaks,
    and the head verified (to be kept elsewhere). Given an anchor (a head kept earlier), the chain
    must still hold that entry with that hash."""
    report = await service.verify(ctx.session, anchor_of(anchor_seq, anchor_hash))
    return verification(report, ctx.clock.now())
