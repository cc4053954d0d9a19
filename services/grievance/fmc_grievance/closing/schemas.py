from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from fmc_common.events.grievance import DecisionKind


class GrievancePhase(BaseModel):
    decision_kind: DecisionKind
    decision_id: uuid.UUID
    stage_id: uuid.UUID
    round: int = Field(
        description="The decision's latest round (1 first; a reversal or a reopening opens the next)"
    )
    windows: int = Field(description="Every window of every round")
    windows_closed: int
    objections_by_status: dict[str, int]
    closed: bool = Field(
        description="GrievanceWindowClosed was emitted for the latest round: every window of every round"
        " closed, every objection decided"
    )
    closed_at: datetime | None
    event_id: str | None = Field(description="The id of the latest round's GrievanceWindowClosed event")
