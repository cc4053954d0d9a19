"""The audit trail: one row per change (who, when, what, why), chained by hashes.

Rows are only ever inserted (database triggers refuse updates and deletes); ``audit_head`` holds
the last sequence number and hash, and is locked by every append so that the chain never forks.
"""

from __future__ import annotations

from fmc_common.audit.tables import AuditHeadColumns, ChainedAuditEntryColumns
from fmc_grievance.base import Base


class AuditEntry(ChainedAuditEntryColumns, Base):
    __tablename__ = "audit_entries"


class AuditHead(AuditHeadColumns, Base):
    """A single row (``fmc_common.audit.tables.HEAD_ID``): the chain's last sequence number and hash."""

    __tablename__ = "audit_head"
