"""REST: /v1/audit (operators read the trail; nobody can change it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from fmc_common.audit.schemas import AuditEntryOut, AuditPage
from fmc_common.inputs import QueryText
from fmc_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, after_seq, encode_cursor
from fmc_common.web.problems import problem_responses
from fmc_registry.audit import service
from fmc_registry.deps import OperatorCtx

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("", response_model=AuditPage, responses=problem_responses(401, 403, 422), summary="Audit trail")
async def list_audit_entries(
    ctx: OperatorCtx,
    entity_type: Annotated[QueryText | None, Query(max_length=50)] = None,
    entity_id: Annotated[QueryText | None, Query(max_length=64)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> AuditPage:
    """Every change (who, when, what, why) in the order it happened, optionally for one entity.

    Operators only. The trail is append-only: there is no endpoint to change it, and the database
    refuses updates and deletes of its rows.
    """
    rows = await service.page(
        ctx.session, entity_type=entity_type, entity_id=entity_id, after=after_seq(cursor), limit=limit + 1
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(
        items=[AuditEntryOut.model_validate(r) for r in rows],
        next_cursor=encode_cursor(str(rows[-1].seq)) if more and rows else None,
    )
