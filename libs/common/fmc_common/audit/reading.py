"""What a service's audit endpoints answer, built once: a page of a chained trail, an anchor from its
query parameters, and the verification report.

A service's ``/v1/audit`` and ``/v1/audit/verification`` routes stay its own (its roles, its trail);
they call these.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fmc_common.audit.chain import Anchor, ChainReport
from fmc_common.audit.schemas import ChainedAuditEntryOut, ChainedAuditPage, ChainVerification
from fmc_common.audit.tables import ChainedAuditEntryColumns
from fmc_common.errors import InvalidInput
from fmc_common.pagination import next_cursor

# Sequence numbers are BIGINT.
MAX_SEQ = 2**63 - 1


def chained_page(rows: Sequence[ChainedAuditEntryColumns], limit: int) -> ChainedAuditPage:
    """``rows`` as read with ``limit + 1``: the extra row only tells that there is a next page."""
    page = rows[:limit]
    return ChainedAuditPage(
        items=[ChainedAuditEntryOut.model_validate(r) for r in page],
        next_cursor=next_cursor(page[-1].seq if page else None, len(rows) > limit),
    )


def anchor_of(anchor_seq: int | None, anchor_hash: str | None) -> Anchor | None:
    """The anchor a caller gave (a checkpoint kept elsewhere): both parameters or neither."""
    if (anchor_seq is None) != (anchor_hash is None):
        raise InvalidInput("anchor_seq and anchor_hash go together: give both or neither")
    return Anchor(anchor_seq, anchor_hash) if anchor_seq is not None and anchor_hash is not None else None


def verification(report: ChainReport, checked_at: datetime) -> ChainVerification:
    return ChainVerification(
        intact=report.intact,
        entries_checked=report.entries_checked,
        first_broken_seq=report.first_broken_seq,
        problem=report.problem,
        checked_at=checked_at,
        head_seq=report.head.seq,
        head_hash=report.head.hash,
        head_at=report.head.at,
    )
