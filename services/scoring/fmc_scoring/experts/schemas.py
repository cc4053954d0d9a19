from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from fmc_common.inputs import Input, Name

Affiliation = Annotated[str, Field(min_length=1, max_length=200)]


class EvaluatorIn(Input):
    subject: Annotated[
        str, Field(min_length=1, max_length=200, description="The `sub` of the evaluator's token")
    ]
    name: Name
    affiliations: list[Affiliation] = Field(default_factory=list, max_length=20)
    conflicts: list[uuid.UUID] = Field(
        default_factory=list, max_length=100, description="Teams the evaluator declared a conflict with"
    )


class PanelIn(Input):
    deadline: AwareDatetime = Field(description="Scores are accepted until this instant (exclusive)")
    evaluators: list[EvaluatorIn] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _distinct(self) -> PanelIn:
        if len({e.subject for e in self.evaluators}) != len(self.evaluators):
            raise ValueError("each evaluator may be listed once")
        return self


class EvaluatorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    subject: str
    name: str
    affiliations: list[str]
    declared_conflicts: list[str]


class PanelOut(BaseModel):
    stage_id: uuid.UUID
    deadline: datetime
    deadline_seoul: str = Field(description="The deadline in Asia/Seoul, with its offset")
    closed: bool
    evaluators: list[EvaluatorOut]


class ScoreIn(Input):
    team_id: uuid.UUID
    technical_originality: float = Field(ge=0, le=100)
    technological_capability: float = Field(ge=0, le=100)
    readiness: float = Field(ge=0, le=100, description="Readiness for what comes next")
    comment: Annotated[str, Field(min_length=1, max_length=4000)]


class AmendmentIn(Input):
    """The score's corrected values, and why (the score as given is kept)."""

    technical_originality: float = Field(ge=0, le=100)
    technological_capability: float = Field(ge=0, le=100)
    readiness: float = Field(ge=0, le=100)
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class AmendmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    score_id: uuid.UUID
    evaluator: str
    technical_originality: float
    technological_capability: float
    readiness: float
    reason: str
    amended_at: datetime
    in_window: bool = Field(
        default=True,
        description="Recorded by the evidence cut-off: counts at once. After it: counts only in a "
        "re-evaluation ordered by an accepted objection on the expert panel (or the process)",
    )


class ScoreOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    stage_id: uuid.UUID
    team_id: uuid.UUID
    evaluator: str
    technical_originality: float
    technological_capability: float
    readiness: float
    comment: str
    submitted_at: datetime
    in_window: bool = Field(
        default=True, description="Given by the evidence cut-off; false: kept, never counts"
    )
    amendments: list[AmendmentOut] = Field(
        default_factory=list, description="Oldest first; the score stays as given"
    )


class TeamPanelOut(BaseModel):
    team_id: uuid.UUID
    value: float = Field(description="Trimmed mean of the evaluators' scores (0-100)")
    per_criterion: dict[str, float]
    used_score_ids: list[uuid.UUID]
    dropped_score_ids: list[uuid.UUID]
