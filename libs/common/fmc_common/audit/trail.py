"""Writing and reading an audit trail, in the caller's transaction.

A service binds a trail to its table once (``trail = AuditTrail(AuditEntry)`` in its ``audit``
package) and records with its unit of work: the change and its audit row commit together.
"""

from __future__ import annotations

import uuid
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.audit.chain import (
    EMPTY_HEAD,
    Anchor,
    ChainedFields,
    ChainHead,
    ChainReport,
    ChainVerifier,
    StoredEntry,
)
from fmc_common.audit.tables import HEAD_ID, AuditEntryColumns, AuditHeadColumns, ChainedAuditEntryColumns
from fmc_common.auth import Actor
from fmc_common.clock import Clock
from fmc_common.errors import AppError

VERIFY_BATCH = 1000

E = TypeVar("E", bound=AuditEntryColumns)
C = TypeVar("C", bound=ChainedAuditEntryColumns)
H = TypeVar("H", bound=AuditHeadColumns)


class AuditHeadMissing(AppError):
    code = "audit-head-missing"
    title = "The audit trail's head row is missing; the database was not migrated or was tampered with"


class UnitOfWork(Protocol):
    """What recording needs from a service's context (every ``Ctx`` has it)."""

    @property
    def session(self) -> AsyncSession: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def actor(self) -> Actor: ...


class AuditTrail(Generic[E]):
    """A plain trail: entries numbered by the database, filtered by entity."""

    def __init__(self, entry: type[E]) -> None:
        self.entry = entry

    async def record(
        self,
        unit: UnitOfWork,
        *,
        action: str,
        entity_type: str,
        entity_id: object,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> E:
        """Append one entry in the caller's transaction."""
        entry = self.entry(**_change(unit, action, entity_type, entity_id, reason, details))
        unit.session.add(entry)
        await unit.session.flush()
        return entry

    async def page(
        self,
        session: AsyncSession,
        *,
        entity_type: str | None = None,
        entity_id: str | None = None,
        after: int | None = None,
        limit: int,
    ) -> list[E]:
        """Entries in the order they were written, after the sequence number ``after``."""
        query = _page(select(self.entry), self.entry, entity_id, after, limit)
        if entity_type is not None:
            query = query.where(self.entry.entity_type == entity_type)
        return list(await session.scalars(query))


class ChainedAuditTrail(Generic[C, H]):
    """A hash-chained trail: each entry covers the one before it; the head row serialises appends."""

    def __init__(self, entry: type[C], head: type[H]) -> None:
        self.entry = entry
        self.head = head

    async def record(
        self,
        unit: UnitOfWork,
        *,
        action: str,
        entity_type: str,
        entity_id: object,
        team_id: uuid.UUID | None = None,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> C:
        """Append one entry in the caller's transaction.

        The head row is locked (``FOR UPDATE``; SQLite has one writer anyway) until the transaction
        ends, so concurrent appends queue up and each links to the one before it.
        """
        head = await unit.session.get(self.head, HEAD_ID, with_for_update=True)
        if head is None:
            raise AuditHeadMissing()
        change = _change(unit, action, entity_type, entity_id, reason, details)
        fields = ChainedFields(
            seq=head.seq + 1,
            team_id=str(team_id) if team_id else None,
            prev_hash=head.hash,
            **change,
        )
        digest = fields.hash()
        entry = self.entry(**change, seq=fields.seq, team_id=team_id, prev_hash=head.hash, hash=digest)
        unit.session.add(entry)
        head.seq, head.hash = fields.seq, digest
        await unit.session.flush()
        return entry

    async def page(
        self,
        session: AsyncSession,
        *,
        entity_id: str | None = None,
        team_id: uuid.UUID | None = None,
        after: int | None = None,
        limit: int,
    ) -> list[C]:
        """Entries in chain order, after the sequence number ``after``."""
        query = _page(select(self.entry), self.entry, entity_id, after, limit)
        if team_id is not None:
            query = query.where(self.entry.team_id == team_id)
        return list(await session.scalars(query))

    async def head_entry(self, session: AsyncSession) -> ChainHead:
        """The head as the entries state it (sequence number, hash, time of the last entry), unverified."""
        head = await session.get(self.head, HEAD_ID)
        if head is None:
            raise AuditHeadMissing()
        if head.seq == 0:
            return EMPTY_HEAD
        entry = await session.get(self.entry, head.seq)
        if entry is None:  # the head names an entry that is gone: verification reports where
            return ChainHead(head.seq, head.hash)
        return ChainHead(entry.seq, entry.hash, entry.at)

    async def verify(self, session: AsyncSession, anchor: Anchor | None = None) -> ChainReport:
        """Recompute the whole chain from the stored rows, a batch at a time; compare with the head
        and, given one, with an anchor (a head kept elsewhere earlier)."""
        verifier = ChainVerifier(anchor)
        after = 0
        while verifier.broken is None:
            rows = await self.page(session, after=after, limit=VERIFY_BATCH)
            if not rows:
                break
            verifier.feed(_stored(row) for row in rows)
            after = rows[-1].seq
            session.expunge_all()  # a long trail must not pile up in the identity map
        head = await session.get(self.head, HEAD_ID)
        if head is None:
            raise AuditHeadMissing()
        return verifier.finish(head.seq, head.hash)


def _change(
    unit: UnitOfWork,
    action: str,
    entity_type: str,
    entity_id: object,
    reason: str | None,
    details: dict[str, Any] | None,
) -> dict[str, Any]:
    """The columns every entry has: who changed what, when and why."""
    return {
        "at": unit.clock.now(),
        "actor_subject": unit.actor.subject,
        "actor_role": unit.actor.role.value,
        "action": action,
        "entity_type": entity_type,
        "entity_id": str(entity_id),
        "reason": reason,
        "details": details or {},
    }


def _page(
    query: Select[Any],
    entry: type[AuditEntryColumns] | type[ChainedAuditEntryColumns],
    entity_id: str | None,
    after: int | None,
    limit: int,
) -> Select[Any]:
    query = query.order_by(entry.seq).limit(limit)
    if entity_id is not None:
        query = query.where(entry.entity_id == entity_id)
    if after is not None:
        query = query.where(entry.seq > after)
    return query


def _stored(entry: ChainedAuditEntryColumns) -> StoredEntry:
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
