"""Writing to and reading the audit trail. Rows are only ever inserted (triggers refuse the rest)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from fmc_registry.audit.models import AuditEntry
from fmc_registry.deps import RegistryCtx as Ctx


async def record(
    ctx: Ctx,
    *,
    action: str,
    entity_type: str,
    entity_id: object,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction: the change and its audit row commit together."""
    entry = AuditEntry(
        at=ctx.clock.now(),
        actor_subject=ctx.actor.subject,
        actor_role=ctx.actor.role.value,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        reason=reason,
        details=details or {},
    )
    ctx.session.add(entry)
    await ctx.session.flush()
    return entry


async def page(
    ctx: Ctx, *, entity_type: str | None, entity_id: str | None, after: int | None, limit: int
) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.seq).limit(limit)
    if entity_type is not None:
        query = query.where(AuditEntry.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == entity_id)
    if after is not None:
        query = query.where(AuditEntry.seq > after)
    return list(await ctx.session.scalars(query))
