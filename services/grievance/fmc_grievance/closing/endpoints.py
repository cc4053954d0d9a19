"""REST: where a decision's grievance phase stands (operators)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from fmc_common.auth import Role
from fmc_common.events.grievance import DecisionKind
from fmc_common.web.problems import problem_responses
from fmc_grievance.closing import service
from fmc_grievance.closing.schemas import GrievancePhase
from fmc_grievance.deps import ActorCtx

router = APIRouter(prefix="/v1/decisions", tags=["closing"])


@router.get(
    "/{decision_kind}/{decision_id}/grievance",
    response_model=GrievancePhase,
    responses=problem_responses(401, 403, 404, 422),
    summary="Where a decision's grievance phase stands",
)
async def grievance_phase(
    decision_kind: DecisionKind, decision_id: uuid.UUID, ctx: ActorCtx
) -> GrievancePhase:
    """Windows closed so far, objections by status, and whether the phase is closed (operators)."""
    ctx.actor.require(Role.OPERATOR)
    return await service.phase(ctx, decision_kind, decision_id)
