"""Columns of an audit trail, as mixins a service combines with its own declarative ``Base``.

The table stays the service's (its name, its metadata, its migration); only the columns are written
once. Rows are only ever inserted: each service's migration adds the triggers that refuse the rest.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.db import UtcDateTime
from fmc_common.messaging.tables import SEQUENCE_TYPE

# The one row of a chained trail's head table.
HEAD_ID = 1


class _Change:
    """Who changed what, when and why: the columns of every audit entry."""

    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_subject: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(100))
    entity_id: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)

    if TYPE_CHECKING:
        # The declarative constructor the mapped subclass gets (mixins declare none of their own).
        def __init__(self, **columns: Any) -> None: ...


class AuditEntryColumns(_Change):
    """A plain trail: the database numbers the entries."""

    seq: Mapped[int] = mapped_column(SEQUENCE_TYPE, primary_key=True, autoincrement=True)
    entity_type: Mapped[str] = mapped_column(String(50), index=True)


class ChainedAuditEntryColumns(_Change):
    """A hash-chained trail (``fmc_common.audit.chain``)."""

    # Assigned by the appender (head + 1), not by the database: gapless, and covered by the hash.
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entity_type: Mapped[str] = mapped_column(String(50))
    # The team the entry concerns, if any: a team may read the history of what concerns it.
    team_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadColumns:
    """A single row (``HEAD_ID``): the chain's last sequence number and hash, locked by every append."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
