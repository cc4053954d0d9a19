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
    withdrawn_at: datetime | None = Field(
        default=None,
        description="When the evaluator declared a conflict of interest with the team: the score is kept "
        "as given but no longer counts (and can no longer be amended)",
    )


class TeamPanelOut(BaseModel):
    team_id: uuid.UUID
    value: float = Field(description="Trimmed mean of the evaluators' scores (0-100)")
    per_criterion: dict[str, float]
    used_score_ids: list[uuid.UUID]
    dropped_score_ids: list[uuid.UUID]


class ConflictIn(Input):
    """An evaluator's own declaration: a conflict of interest with one of the stage's models."""

    team_id: uuid.UUID = Field(description="The model's team (the web tier maps the blind number to it)")
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class ConflictOut(BaseModel):
    """A declaration as recorded. ``team_id`` and ``evaluator`` are for operators only: the evaluator's
    own answers never carry a team id, so that the blind numbering on the pages stays blind."""

    id: uuid.UUID
    stage_id: uuid.UUID
    reason: str
    declared_at: datetime
    withdrew_score: bool = Field(description="The evaluator had scored the team: that score no longer counts")
    team_id: uuid.UUID | None = Field(default=None, description="Operators only")
    evaluator: str | None = Field(default=None, description="Operators only")
    withdrawn_score_id: uuid.UUID | None = Field(default=None, description="Operators only")


class SampledItemOut(BaseModel):
    """One benchmark item as the model answered it: what was asked and what it said; never the
    answer key, the grade or whether the answer was right."""

    position: int = Field(description="1..n, the same item at the same position for every model")
    suite_title: str
    language: str
    prompt: str
    prompt_truncated: bool
    response: str | None = Field(description="null: no answer (not yet run, or the model failed on it)")
    response_truncated: bool


class SampleOut(BaseModel):
    """A model's sampled responses for the panel; no team id, name or figure."""

    stage_id: uuid.UUID
    items: list[SampledItemOut]
