from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, model_validator

from fmc_common.inputs import Input, printable
from fmc_scoring.arena.identity import TermKind
from fmc_scoring.arena.records import MalformedReason
from fmc_scoring.arena.standings import Choice, ExclusionCategory


class BattleIn(Input):
    prompt: Annotated[str, Field(min_length=1, max_length=8000)]


# The pseudonym the web tier derives for an anonymous person (hex of a keyed hash; never an address).
Pseudonym = Annotated[str, Field(pattern=r"^[0-9a-f]{32,64}$", description="The anonymous voter's pseudonym")]


class AnonymousBattleIn(BattleIn):
    voter: Pseudonym


class ArenaSettingsIn(Input):
    public: bool = Field(description="true: anyone may vote without signing in, through the web tier")
    reason: Annotated[str, Field(min_length=1, max_length=2000)] = Field(
        default="no reason stated", description="Kept in the audit trail"
    )


class ArenaSettingsOut(BaseModel):
    stage_id: uuid.UUID
    public: bool = Field(description="The anonymous public mode; false until an operator switches it on")
    updated_by: str | None = None
    updated_at: datetime | None = None


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


class AnonymousVoteIn(VoteIn):
    voter: Pseudonym


class RevealedOut(BaseModel):
    team_name: str


class VoteOut(BaseModel):
    """The vote as recorded, and who answered (revealed only now)."""

    battle_id: uuid.UUID
    choice: str
    counted: bool
    discard_reason: str | None = Field(
        description="The rule that discarded the vote: self-identification (an answer named its own "
        "team, maker or model) or prompt-identification (the prompt named a contender)"
    )
    discard_term_kind: TermKind | None = Field(
        default=None, description="What the matched name names (team, organisation, model); never the name"
    )
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
    counted: bool = Field(description="false: discarded by a hygiene rule (discard_reason)")
    discard_reason: str | None
    discard_term_kind: TermKind | None = None
    discard_term: str | None = Field(default=None, description="The term matched, normalised")
    in_window: bool = Field(description="Cast by the stage's evidence cut-off")
    exclusion_id: uuid.UUID | None = Field(description="Excluded by an operator for a hygiene reason")
    malformed: MalformedReason | None = Field(
        default=None, description="Left out of the standings as a malformed record, and why"
    )
    anonymous: bool = Field(
        default=False,
        description="Cast in the public arena without signing in: counted apart, never evidence",
    )


class AliasIn(Input):
    """Another name a team's model may call itself by: a spelling of the team's name or maker
    (Korean or Latin, spelled out), or a model name."""

    alias: Annotated[str, Field(min_length=2, max_length=200), AfterValidator(printable)]
    kind: TermKind = Field(description="What the alias names: team, organisation or model")
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class AliasOut(BaseModel):
    alias_id: uuid.UUID
    team_id: uuid.UUID
    alias: str
    normalised: str = Field(description="As it is looked for (arena identity rules)")
    kind: TermKind
    added_by: str
    added_at: datetime


class AliasRemovalIn(Input):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
