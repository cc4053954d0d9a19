"""The registry's audit trail, written with the common kit (``fmc_common.audit``).

``record`` appends in the caller's transaction; rows are only ever inserted (triggers refuse the rest).
"""

from __future__ import annotations

from fmc_common.audit.trail import AuditTrail
from fmc_registry.audit.models import AuditEntry

trail = AuditTrail(AuditEntry)
record = trail.record
page = trail.page
