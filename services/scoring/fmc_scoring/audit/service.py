"""Recording decisions in the audit trail, in the transaction of the change they record.

Written with the common kit (``fmc_common.audit``); scoring has no audit endpoint of its own.
"""

from __future__ import annotations

from fmc_common.audit.trail import AuditTrail
from fmc_scoring.audit.models import ScoringAuditEntry

trail = AuditTrail(ScoringAuditEntry)
record = trail.record
