"""Recording decisions in the audit trail, in the transaction of the change they record.

Scoring's trail is hash-chained with the common kit (``fmc_common.audit``), like grievance's:
``record`` appends (locking the head, so the chain never forks), ``page`` reads it in order and
``verify`` recomputes the chain from the stored rows (``GET /v1/audit``, ``/v1/audit/verification``).
"""

from __future__ import annotations

from fmc_common.audit.trail import ChainedAuditTrail
from fmc_scoring.audit.models import ScoringAuditEntry, ScoringAuditHead

trail = ChainedAuditTrail(ScoringAuditEntry, ScoringAuditHead)
record = trail.record
page = trail.page
verify = trail.verify
