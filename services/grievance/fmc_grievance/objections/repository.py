"""Every query of the objection workflow."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.events.grievance import DecisionKind
from fmc_common.idempotency import Recorded
from fmc_grievance.objections.models import (
    OPEN_STATUSES,
    AttachmentBlob,
    Objection,
    ObjectionStatus,
    ObjectionVersion,
    ReEvaluation,
    VersionAttachment,
)
from fmc_grievance.upsert import insert_or_skip


async def get(session: AsyncSession, objection_id: uuid.UUID, *, lock: bool = False) -> Objection | None:
    query = select(Objection).where(Objection.id == objection_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def by_client_key(session: AsyncSession, team_id: uuid.UUID, client_key: str) -> Objection | None:
    query = select(Objection).where(Objection.team_id == team_id, Objection.client_key == client_key)
    return await session.scalar(query.execution_options(populate_existing=True))


async def version_by_client_key(
    session: AsyncSession, objection_id: uuid.UUID, client_key: str
) -> ObjectionVersion | None:
    query = select(ObjectionVersion).where(
        ObjectionVersion.objection_id == objection_id, ObjectionVersion.client_key == client_key
    )
    return await session.scalar(query.execution_options(populate_existing=True))


@dataclass(frozen=True)
class FilingKeys:
    """The idempotency keys of a team's filings, kept on the objection row itself."""

    session: AsyncSession
    team_id: uuid.UUID

    async def find(self, key: str) -> Recorded[Objection] | None:
        found = await by_client_key(self.session, self.team_id, key)
        return None if found is None else Recorded(found.request_hash, found)

    async def keep(self, key: str, fingerprint: str, result: Objection) -> None:
        """Nothing to add: the objection was inserted with its key and fingerprint."""


@dataclass(frozen=True)
class AmendmentKeys:
    """The idempotency keys of an objection's amendments, kept on each version row."""

    session: AsyncSession
    objection_id: uuid.UUID

    async def find(self, key: str) -> Recorded[ObjectionVersion] | None:
        found = await version_by_client_key(self.session, self.objection_id, key)
        return None if found is None else Recorded(found.request_hash, found)

    async def keep(self, key: str, fingerprint: str, result: ObjectionVersion) -> None:
        """Nothing to add: the version was inserted with its key and fingerprint."""


async def next_version(session: AsyncSession, objection_id: uuid.UUID, now: datetime) -> int:
    """Take the next version number atomically (the row stays locked until the transaction ends)."""
    result = await session.execute(
        update(Objection)
        .where(Objection.id == objection_id)
        .values(current_version=Objection.current_version + 1, updated_at=now)
        .returning(Objection.current_version)
    )
    return int(result.scalar_one())


async def version(session: AsyncSession, objection_id: uuid.UUID, number: int) -> ObjectionVersion | None:
    return await session.get(ObjectionVersion, (objection_id, number))


async def versions(session: AsyncSession, objection_id: uuid.UUID) -> list[ObjectionVersion]:
    query = select(ObjectionVersion).where(ObjectionVersion.objection_id == objection_id)
    return list(await session.scalars(query.order_by(ObjectionVersion.version)))


async def attachments(
    session: AsyncSession, objection_id: uuid.UUID, version_number: int | None = None
) -> list[VersionAttachment]:
    query = select(VersionAttachment).where(VersionAttachment.objection_id == objection_id)
    if version_number is not None:
        query = query.where(VersionAttachment.version == version_number)
    return list(await session.scalars(query.order_by(VersionAttachment.version, VersionAttachment.position)))


async def store_blob(session: AsyncSession, sha256: str, content: bytes, now: datetime) -> None:
    """Store content once: the same bytes attached twice (or by two teams at once) share one row."""
    values = {"sha256": sha256, "size": len(content), "content": content, "stored_at": now}
    await session.execute(insert_or_skip(session, AttachmentBlob, values, ["sha256"]))


async def blob(session: AsyncSession, sha256: str) -> AttachmentBlob | None:
    return await session.get(AttachmentBlob, sha256)


async def page(
    session: AsyncSession,
    *,
    after: uuid.UUID | None,
    limit: int,
    team_id: uuid.UUID | None = None,
    decision_id: uuid.UUID | None = None,
    statuses: Sequence[ObjectionStatus] | None = None,
) -> list[Objection]:
    query = select(Objection).order_by(Objection.id).limit(limit)
    if after is not None:
        query = query.where(Objection.id > after)
    if team_id is not None:
        query = query.where(Objection.team_id == team_id)
    if decision_id is not None:
        query = query.where(Objection.decision_id == decision_id)
    if statuses is not None:
        query = query.where(Objection.status.in_(list(statuses)))
    return list(await session.scalars(query))


async def re_evaluation(session: AsyncSession, objection_id: uuid.UUID) -> ReEvaluation | None:
    return await session.scalar(select(ReEvaluation).where(ReEvaluation.objection_id == objection_id))


async def counts_for_decision(
    session: AsyncSession, decision_kind: DecisionKind, decision_id: uuid.UUID
) -> dict[ObjectionStatus, int]:
    """Objections of a decision by status."""
    query = (
        select(Objection.status, func.count())
        .where(Objection.decision_kind == decision_kind, Objection.decision_id == decision_id)
        .group_by(Objection.status)
    )
    return {status: int(n) for status, n in (await session.execute(query)).all()}


async def undecided_count(session: AsyncSession, decision_kind: DecisionKind, decision_id: uuid.UUID) -> int:
    counts = await counts_for_decision(session, decision_kind, decision_id)
    return sum(counts.get(s, 0) for s in OPEN_STATUSES)
