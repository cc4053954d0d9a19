"""Scoring's append-only audit trail: who decided what, when, and why, chained by hashes."""

from __future__ import annotations

from fmc_common.audit.tables import AuditHeadColumns, ChainedAuditEntryColumns
from fmc_scoring.base import Base


class ScoringAuditEntry(ChainedAuditEntryColumns, Base):
    """One decision or change of status in scoring. Rows are only ever added (database triggers)."""

    __tablename__ = "scoring_audit"


class ScoringAuditHead(AuditHeadColumns, Base):
    """A single row (``fmc_common.audit.tables.HEAD_ID``): the chain's last sequence number and hash."""

    __tablename__ = "scoring_audit_head"
