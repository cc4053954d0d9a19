from __future__ import annotations

from pydantic import BaseModel, Field

from fmc_common.audit.schemas import ChainedAuditEntryOut


# Grievance's trail is chained; the class name is the published schema's (no docstring: it would
# become the schema's description).
class AuditEntryOut(ChainedAuditEntryOut):
    pass


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")
