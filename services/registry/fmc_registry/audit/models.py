"""The audit trail: one row per change (who, when, what, why). Append-only, enforced by the database."""

from __future__ import annotations

from fmc_common.audit.tables import AuditEntryColumns
from fmc_registry.base import Base


class AuditEntry(AuditEntryColumns, Base):
    __tablename__ = "audit_entries"
