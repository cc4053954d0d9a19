"""A team's result detail as stored with its row: the gates and the inputs behind every figure.

Written with ``model_dump(mode="json")``, read back with ``model_validate``. The stored layout is
the one the operators' view shows as ``detail``; a part without evidence is stored as ``{}``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, SerializerFunctionWrapHandler, WrapSerializer

from fmc_common.events.vocabulary import Verdict
from fmc_scoring.results.decision import GateState


def _absent_when_empty(value: Any) -> Any:
    return value or None


def _empty_when_absent(value: Any, handler: SerializerFunctionWrapHandler) -> Any:
    return {} if value is None else handler(value)


class SuiteInput(BaseModel):
    """One suite's figures for a team, and the run they come from."""

    suite_id: uuid.UUID
    suite_key: str
    suite_version: str
    run_id: uuid.UUID
    accuracy: float
    ci_low: float
    ci_high: float
    items: int
    errored: int
    responses_sha256: str
    key_revision: int = Field(default=1, description="The suite's answer-key revision the grade used")


class ExpertInput(BaseModel):
    """The panel's trimmed mean, with the scores used and dropped."""

    value: float
    per_criterion: dict[str, float]
    score_ids: list[uuid.UUID]
    dropped_score_ids: list[uuid.UUID]
    amendment_ids: list[uuid.UUID] = Field(
        default_factory=list, description="Amendments whose values counted in place of the scores as given"
    )


class UserInput(BaseModel):
    """The team's arena standing and the stage's arena figures it was computed with."""

    rating: float
    lower: float
    upper: float
    arena_rank: int
    win_rate: float = Field(
        description="Expected chance of beating another rated team, this team rated at its lower "
        "bound (versions proposed before 2026-12-05: at its rating); the user part is 100 x this"
    )
    votes: int
    stage_votes: int
    bootstrap_rounds: int
    converged: bool


class OriginalityInput(BaseModel):
    check_id: uuid.UUID | None = None
    verdict: Verdict | None = None


# A part without evidence is ``{}`` in the stored layout, ``None`` in Python.
_EMPTY_IN = BeforeValidator(_absent_when_empty)
_EMPTY_OUT = WrapSerializer(_empty_when_absent)
ExpertPart = Annotated[ExpertInput | None, _EMPTY_IN, _EMPTY_OUT]
UserPart = Annotated[UserInput | None, _EMPTY_IN, _EMPTY_OUT]


def _suites_with_their_key(value: Any) -> Any:
    """Rows stored before suite figures carried ``suite_key``/``suite_version`` still read: the
    label they are filed under (``key@version``) says the same."""
    if not isinstance(value, dict):
        return value
    filled = {}
    for label, figures in value.items():
        if isinstance(figures, dict) and "suite_key" not in figures and isinstance(label, str):
            key, _, version = label.rpartition("@")
            figures = {**figures, "suite_key": key or label, "suite_version": version}
        filled[label] = figures
    return filled


class TeamInputs(BaseModel):
    """Where each of a team's numbers comes from (shown to operators, and to the team for its own).

    ``suites`` is keyed by the suite's label (``key@version``), as the criteria's rules are.
    """

    suites: Annotated[dict[str, SuiteInput], BeforeValidator(_suites_with_their_key)] = Field(
        default_factory=dict
    )
    expert: ExpertPart = None
    user: UserPart = None
    originality: OriginalityInput = Field(default_factory=OriginalityInput)


class TeamDetail(BaseModel):
    gates: dict[str, GateState]
    benchmark_accuracy: float | None
    failed_suites: list[str]
    pending: list[str]
    inputs: TeamInputs


class ArenaSummary(BaseModel):
    """The stage's arena figures the version was computed with."""

    votes: int
    rounds: int
    seed: int
    converged: bool
    prior_sd: float | None = Field(
        default=None, description="The ratings' prior standard deviation, points (None: fitted without one)"
    )
    groups: int | None = Field(
        default=None, description="Groups of teams the votes connect (over one: placed by the prior alone)"
    )


CutoffSource = Literal["criteria", "publication", "proposal"]


class GradeRef(BaseModel):
    """A grade the version counted: its run, the responses graded and the answer-key revision."""

    team_id: uuid.UUID
    suite: str
    run_id: uuid.UUID
    responses_sha256: str
    key_revision: int


class ArenaRef(BaseModel):
    """The votes the version counted, pinned by a hash of their ids, and those left out."""

    votes: int
    votes_sha256: str
    out_of_window: int = 0
    excluded: int = 0


class EvidenceSnapshot(BaseModel):
    """The exact evidence a version used: what a re-evaluation starts from.

    ``cutoff`` is the evidence cut-off applied (``criteria``: stated in the criteria; ``proposal``:
    none had passed yet, so the instant the evidence was gathered; ``publication``: fixed by the
    stage's first publication). Runs, expert scores and votes
    recorded after it were left out; their counts are kept here."""

    cutoff: datetime
    cutoff_source: CutoffSource
    grades: list[GradeRef] = Field(default_factory=list)
    runs_out_of_window: int = 0
    expert_score_ids: list[uuid.UUID] = Field(default_factory=list)
    expert_amendment_ids: list[uuid.UUID] = Field(default_factory=list)
    expert_scores_out_of_window: int = 0
    arena: ArenaRef = Field(default_factory=lambda: ArenaRef(votes=0, votes_sha256=""))
    originality_check_ids: list[uuid.UUID] = Field(default_factory=list)


class EvidenceChange(BaseModel):
    """One thing a re-evaluation changed, and why: the part (and team), before and after (ids,
    hashes, figures), the accepted objection's request and reason."""

    part: Literal["benchmark", "expert", "user", "arena", "originality"]
    team_id: uuid.UUID | None
    before: dict[str, Any]
    after: dict[str, Any]
    concerns: list[str]
    cause_id: uuid.UUID | None
    reason: str | None


class ResultInputs(BaseModel):
    """What a whole version was computed from (stored with the version, shown to operators).

    A re-evaluation's version also says which version it started from, what the accepted objection
    concerned, and every change it made (``changes``); a part not concerned is carried over."""

    criteria_revision: int
    arena: ArenaSummary
    evidence: EvidenceSnapshot | None = None
    based_on_version: int | None = None
    concerns: list[str] = Field(default_factory=list)
    changes: list[EvidenceChange] = Field(default_factory=list)
