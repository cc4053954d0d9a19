from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from fmc_common.events.grievance import DecisionKind


class GrievancePhase(BaseModel):
    decision_kind: DecisionKind
    decision_id: uuid.UUID
    stage_id: uuid.UUID
    windows: int
    windows_closed: int
    objections_by_status: dict[str, int]
    closed: bool = Field(
        description="GrievanceWindowClosed was emitted: every window closed, every objection decided"
    )
    closed_at: datetime | None
    event_id: str | None = Field(description="The id of the GrievanceWindowClosed event")
