from __future__ import annotations

from fmc_common.audit.tables import AuditEntryColumns
from fmc_scoring.base import Base


class ScoringAuditEntry(AuditEntryColumns, Base):
    """One decision or change of status in scoring. Rows are only ever added."""

    __tablename__ = "scoring_audit"
