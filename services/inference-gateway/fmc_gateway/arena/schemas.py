from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fmc_common.inputs import NulFree
from fmc_gateway.endpoints.schemas import DecodingIn, EndpointIn


class Contender(BaseModel):
    model_config = ConfigDict(extra="forbid")

    submission_id: uuid.UUID
    endpoint: EndpointIn


class BattleCreate(NulFree):
    """A voter's prompt and the stage's candidate models; two of them are picked at random."""

    model_config = ConfigDict(extra="forbid")

    stage_id: uuid.UUID
    voter_id: str = Field(min_length=1, max_length=200, description="pseudonymous id of the voter")
    prompt: str = Field(min_length=1, max_length=8000)
    contenders: list[Contender] = Field(min_length=2, max_length=50)
    decoding: DecodingIn = DecodingIn()

    @field_validator("contenders")
    @classmethod
    def distinct(cls, value: list[Contender]) -> list[Contender]:
        if len({c.submission_id for c in value}) != len(value):
            raise ValueError("each contender must be a different submission")
        return value


class Answers(BaseModel):
    a: str
    b: str


class BattleOut(BaseModel):
    """What the voter sees: two answers, no model identity."""

    battle_id: uuid.UUID
    prompt: str
    answers: Answers


class BattleRevealed(BaseModel):
    """After the vote (services, operators): which submission answered as A and as B."""

    battle_id: uuid.UUID
    stage_id: uuid.UUID
    voter_id: str
    prompt: str
    answers: Answers
    a_submission_id: uuid.UUID
    b_submission_id: uuid.UUID
    created_at: datetime
