from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from fmc_common.inputs import Input
from fmc_scoring.arena.standings import Choice, ExclusionCategory


class BattleIn(Input):
    prompt: Annotated[str, Field(min_length=1, max_length=8000)]


class AnswersOut(BaseModel):
    a: str
    b: str


class BattleOut(BaseModel):
    """What the voter sees before voting: two answers, no model identity."""

    battle_id: uuid.UUID
    prompt: str
    answers: AnswersOut


class VoteIn(Input):
    choice: Choice = Field(description="a, b, tie, or both-bad")


class RevealedOut(BaseModel):
    team_name: str


class VoteOut(BaseModel):
    """The vote as recorded, and who answered (revealed only now)."""

    battle_id: uuid.UUID
    choice: str
    counted: bool
    discard_reason: str | None = Field(description="self-identification: an answer named its model or maker")
    in_window: bool = Field(description="Cast by the stage's evidence cut-off; false: kept, never counts")
    a: RevealedOut
    b: RevealedOut


class StandingOut(BaseModel):
    team_id: uuid.UUID
    team_name: str
    rating: float
    lower: float
    upper: float
    arena_rank: int = Field(description="1 + the teams whose lower bound exceeds this team's upper bound")
    win_rate: float = Field(
        description="Expected chance of beating another rated team, this team rated at its lower bound "
        "(the user part of the composite is 100 x this)"
    )
    votes: int = Field(description="Counted votes in which the team was A or B")


class StandingsOut(BaseModel):
    stage_id: uuid.UUID
    votes: int
    converged: bool = Field(description="Every fit (the ratings and each bootstrap round) converged")
    bootstrap_rounds: int
    prior_sd: float = Field(
        description="The ratings' prior: a Gaussian of this standard deviation (points) around 1,000, "
        "the same for every team; it gives every record ratings, e.g. 30-0 about 750 points apart"
    )
    groups: int = Field(
        description="Groups of teams the votes connect; more than one: groups that never met are "
        "placed against each other by the prior alone (each group's mean is 1,000)"
    )
    teams: list[StandingOut]


class ExclusionIn(Input):
    """Votes to exclude (a voter's, or the named ones) and the hygiene reason."""

    category: ExclusionCategory
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    voter: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="Every vote of this voter (the `sub` of their token) in the stage"
    )
    vote_ids: list[uuid.UUID] = Field(default_factory=list, max_length=10_000, description="Battle ids")

    @model_validator(mode="after")
    def _one_selection(self) -> ExclusionIn:
        if (self.voter is None) == (not self.vote_ids):
            raise ValueError("name either a voter or vote ids")
        return self


class ExclusionOut(BaseModel):
    exclusion_id: uuid.UUID
    stage_id: uuid.UUID
    category: str
    reason: str
    voter: str | None
    excluded: int = Field(description="Votes this exclusion took out of the count")
    already_excluded: int = Field(description="Votes named that an earlier exclusion took out")
    vote_ids: list[uuid.UUID]
    excluded_by: str
    excluded_at: datetime


class VoteRecordOut(BaseModel):
    """A vote as kept (operators): whether it counts, and why not."""

    battle_id: uuid.UUID
    voter: str
    choice: str
    voted_at: datetime
    counted: bool = Field(description="false: discarded for self-identification")
    discard_reason: str | None
    in_window: bool = Field(description="Cast by the stage's evidence cut-off")
    exclusion_id: uuid.UUID | None = Field(description="Excluded by an operator for a hygiene reason")
