from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fmc_grievance.audit.chain import ChainProblem


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor_subject: str
    actor_role: str
    action: str
    entity_type: str
    entity_id: str
    team_id: uuid.UUID | None
    reason: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class ChainVerification(BaseModel):
    intact: bool = Field(description="Every entry gives its stored hash and links to the one before it")
    entries_checked: int = Field(description="Entries found intact, from the first one on")
    first_broken_seq: int | None = Field(description="Where the chain breaks (null when intact)")
    problem: ChainProblem | None = Field(
        description="hash-mismatch: the entry was altered; link-broken / sequence-gap: entries were "
        "removed, inserted or reordered; head-mismatch: the last entries were removed"
    )
    checked_at: datetime
