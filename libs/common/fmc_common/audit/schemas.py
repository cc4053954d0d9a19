"""Responses of the audit endpoints. Field order is the published one (the OpenAPI baselines pin it)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fmc_common.audit.chain import ChainProblem


class _Entry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor_subject: str
    actor_role: str
    action: str
    entity_type: str
    entity_id: str


class AuditEntryOut(_Entry):
    reason: str | None
    details: dict[str, Any]


class _TeamEntry(_Entry):
    team_id: uuid.UUID | None


# An entry of a chained trail; pydantic orders the fields along the bases (team_id before reason, as
# published). A service publishes it under its own name by subclassing. No docstrings on these
# models: they would become the schemas' descriptions.
class ChainedAuditEntryOut(AuditEntryOut, _TeamEntry):
    prev_hash: str
    hash: str


class ChainedAuditPage(BaseModel):
    items: list[ChainedAuditEntryOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class ChainVerification(BaseModel):
    intact: bool = Field(description="Every entry gives its stored hash and links to the one before it")
    entries_checked: int = Field(description="Entries found intact, from the first one on")
    first_broken_seq: int | None = Field(description="Where the chain breaks (null when intact)")
    problem: ChainProblem | None = Field(
        description="hash-mismatch: the entry was altered; link-broken / sequence-gap: entries were "
        "removed, inserted or reordered; head-mismatch: the last entries were removed; anchor-mismatch: "
        "the anchor's entry is gone or has another hash (the tail was rewound or re-chained)"
    )
    checked_at: datetime
    head_seq: int = Field(
        description="Sequence number of the last entry found intact (the head, when intact); 0: none"
    )
    head_hash: str = Field(description="Hash of that entry (64 zeros when there is none)")
    head_at: datetime | None = Field(description="When that entry was written (null when there is none)")
