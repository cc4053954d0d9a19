from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class PlannedRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    stage_id: uuid.UUID
    team_id: uuid.UUID
    submission_id: uuid.UUID
    suite_id: uuid.UUID
    status: str
    requested_at: datetime
    completed_at: datetime | None
    responses_sha256: str | None
    failure_code: str | None
    failure_reason: str | None
    in_window: bool = Field(
        default=True, description="Completed by the stage's evidence cut-off; false: kept, never counts"
    )
