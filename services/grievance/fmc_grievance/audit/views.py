"""What callers read of the audit trail: a page of entries in order, with the cursor for the next one."""

from __future__ import annotations

from fmc_common.pagination import next_cursor
from fmc_grievance.audit.models import AuditEntry
from fmc_grievance.audit.schemas import AuditEntryOut, AuditPage


def audit_page(rows: list[AuditEntry], limit: int) -> AuditPage:
    """``rows`` as read with ``limit + 1``: the extra row only tells that there is a next page."""
    page = rows[:limit]
    return AuditPage(
        items=[AuditEntryOut.model_validate(r) for r in page],
        next_cursor=next_cursor(page[-1].seq if page else None, len(rows) > limit),
    )
