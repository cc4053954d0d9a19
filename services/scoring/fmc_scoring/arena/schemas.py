from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, Field

from fmc_common.inputs import Input
from fmc_scoring.arena.standings import Choice


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
    a: RevealedOut
    b: RevealedOut


class StandingOut(BaseModel):
    team_id: uuid.UUID
    team_name: str
    rating: float
    lower: float
    upper: float
    arena_rank: int = Field(description="1 + the teams whose lower bound exceeds this team's upper bound")
    win_rate: float
    votes: int


class StandingsOut(BaseModel):
    stage_id: uuid.UUID
    votes: int
    converged: bool
    bootstrap_rounds: int
    teams: list[StandingOut]
