"""Grievance's hash-chained audit trail, written with the common kit (``fmc_common.audit``).

``record`` appends in the caller's transaction (locking the head, so the chain never forks);
``verify`` recomputes the chain from the stored rows (and checks it still holds an anchor, a head
kept elsewhere); ``head_entry`` is the head the checkpoints publish.
"""

from __future__ import annotations

from fmc_common.audit.trail import ChainedAuditTrail
from fmc_grievance.audit.models import AuditEntry, AuditHead

trail = ChainedAuditTrail(AuditEntry, AuditHead)
record = trail.record
page = trail.page
verify = trail.verify
head_entry = trail.head_entry
