"""Recording decisions in the audit trail, in the transaction of the change they record."""

from __future__ import annotations

import uuid
from typing import Any

from fmc_scoring.audit.models import ScoringAuditEntry
from fmc_scoring.deps import ScoringCtx


async def record(
    ctx: ScoringCtx,
    *,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID | str,
    details: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    ctx.session.add(
        ScoringAuditEntry(
            at=ctx.clock.now(),
            actor_subject=ctx.actor.subject,
            actor_role=ctx.actor.role.value,
            action=action,
            entity_type=entity_type,
            entity_id=str(entity_id),
            reason=reason,
            details=details or {},
        )
    )
    await ctx.session.flush()
