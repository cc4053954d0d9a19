"""Appending to the audit trail, reading it, and verifying its hash chain."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.errors import AppError
from fmc_grievance.audit.chain import ChainedFields, ChainReport, ChainVerifier, StoredEntry
from fmc_grievance.audit.models import HEAD_ID, AuditEntry, AuditHead
from fmc_grievance.deps import GrievanceCtx

VERIFY_BATCH = 1000


class AuditHeadMissing(AppError):
    code = "audit-head-missing"
    title = "The audit trail's head row is missing; the database was not migrated or was tampered with"


async def record(
    ctx: GrievanceCtx,
    *,
    action: str,
    entity_type: str,
    entity_id: object,
    team_id: uuid.UUID | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction: the change and its audit row commit together.

    The head row is locked (``FOR UPDATE``; SQLite has one writer anyway) until the transaction
    ends, so concurrent appends queue up and each links to the one before it.
    """
    head = await ctx.session.get(AuditHead, HEAD_ID, with_for_update=True)
    if head is None:
        raise AuditHeadMissing()
    fields = ChainedFields(
        seq=head.seq + 1,
        at=ctx.clock.now(),
        actor_subject=ctx.actor.subject,
        actor_role=ctx.actor.role.value,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        team_id=str(team_id) if team_id else None,
        reason=reason,
        details=details or {},
        prev_hash=head.hash,
    )
    digest = fields.hash()
    entry = AuditEntry(
        seq=fields.seq,
        at=fields.at,
        actor_subject=fields.actor_subject,
        actor_role=fields.actor_role,
        action=action,
        entity_type=entity_type,
        entity_id=fields.entity_id,
        team_id=team_id,
        reason=reason,
        details=dict(fields.details),
        prev_hash=fields.prev_hash,
        hash=digest,
    )
    ctx.session.add(entry)
    head.seq, head.hash = fields.seq, digest
    await ctx.session.flush()
    return entry


async def page(
    session: AsyncSession,
    *,
    entity_id: str | None = None,
    team_id: uuid.UUID | None = None,
    after: int | None = None,
    limit: int,
) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.seq).limit(limit)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == entity_id)
    if team_id is not None:
        query = query.where(AuditEntry.team_id == team_id)
    if after is not None:
        query = query.where(AuditEntry.seq > after)
    return list(await session.scalars(query))


def _stored(entry: AuditEntry) -> StoredEntry:
    return StoredEntry(
        fields=ChainedFields(
            seq=entry.seq,
            at=entry.at,
            actor_subject=entry.actor_subject,
            actor_role=entry.actor_role,
            action=entry.action,
            entity_type=entry.entity_type,
            entity_id=entry.entity_id,
            team_id=str(entry.team_id) if entry.team_id else None,
            reason=entry.reason,
            details=entry.details,
            prev_hash=entry.prev_hash,
        ),
        hash=entry.hash,
    )


async def verify(session: AsyncSession) -> ChainReport:
    """Recompute the whole chain from the stored rows, a batch at a time; compare with the head."""
    verifier = ChainVerifier()
    after = 0
    while verifier.broken is None:
        rows = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(VERIFY_BATCH)
            )
        )
        if not rows:
            break
        verifier.feed(_stored(row) for row in rows)
        after = rows[-1].seq
        session.expunge_all()  # a long trail must not pile up in the identity map
    head = await session.get(AuditHead, HEAD_ID)
    if head is None:
        raise AuditHeadMissing()
    return verifier.finish(head.seq, head.hash)
