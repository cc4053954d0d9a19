from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from fmc_common.inputs import Input
from fmc_scoring.values import MAX_SAMPLES, ChoiceScoring, Normalisation, Part

# The default minimum of counted votes per model: under about 30 votes a model's interval spans
# hundreds of points (docs/decisions/2026-12-05-arena-ratings-prior.md).
ARENA_MIN_VOTES = 30


class SuiteWeightIn(Input):
    suite_id: uuid.UUID
    weight: float = Field(gt=0.0, le=1000.0, description="Weight of the suite in the benchmark part")
    min_accuracy: float | None = Field(default=None, ge=0.0, le=1.0, description="This suite's own threshold")
    scoring: ChoiceScoring = Field(
        default=ChoiceScoring.GENERATE,
        description="Multiple-choice suites: generate (the answer read from the model's text) or "
        "loglikelihood (the most likely choice, for endpoints that give log-probabilities)",
    )
    normalisation: Normalisation | None = Field(
        default=None,
        description="loglikelihood only: raw (the default), per-token or per-byte (docs/scoring.md)",
    )

    samples: int = Field(
        default=1,
        ge=1,
        le=MAX_SAMPLES,
        description="Executed-code suites: samples per item (n), each a run of the suite with its own "
        "seed (the stage's decoding seed plus the sample's number); pass@k is estimated from them",
    )
    pass_k: int = Field(
        default=1,
        ge=1,
        le=MAX_SAMPLES,
        description="Executed-code suites: the k of pass@k, at most samples (unbiased estimator, "
        "docs/scoring.md)",
    )

    @model_validator(mode="after")
    def _normalisation_with_loglikelihood(self) -> SuiteWeightIn:
        if self.normalisation is not None and self.scoring != ChoiceScoring.LOGLIKELIHOOD:
            raise ValueError("normalisation applies to loglikelihood scoring only")
        if self.pass_k > self.samples:
            raise ValueError(f"pass_k ({self.pass_k}) needs at least as many samples ({self.samples})")
        return self


class PartWeightsIn(Input):
    benchmark: float = Field(ge=0.0, le=1.0)
    expert: float = Field(ge=0.0, le=1.0)
    user: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _some_weight(self) -> PartWeightsIn:
        if self.benchmark + self.expert + self.user <= 0:
            raise ValueError("at least one part needs a positive weight")
        return self


class DecodingIn(Input):
    max_tokens: int = Field(default=256, ge=1, le=32_768)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


class LimitsIn(Input):
    request_timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    max_attempts: int = Field(default=5, ge=1, le=20)


class CriteriaIn(Input):
    """A stage's criteria, as agreed with the teams. Accepted until the stage's evaluation starts."""

    suites: list[SuiteWeightIn] = Field(min_length=1, max_length=50)
    part_weights: PartWeightsIn
    overall_threshold: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Minimum suite-weighted benchmark accuracy"
    )
    advancing: int = Field(ge=0, le=100, description="Teams that advance from the stage")
    tie_break: list[Part] = Field(
        default_factory=lambda: [Part.BENCHMARK, Part.EXPERT, Part.USER],
        max_length=3,
        description="Parts compared, in order, when composites are equal; then a published lottery",
    )
    arena_min_votes: int = Field(
        default=ARENA_MIN_VOTES,
        ge=0,
        le=100_000,
        description="Counted arena votes each evaluated model needs (as A or B) before a result is "
        "proposed while the user part has a weight; a stage with a model below it is refused with "
        "`arena-votes-insufficient` (409) listing the models short of votes. 0: no minimum",
    )
    decoding: DecodingIn = DecodingIn()
    limits: LimitsIn = LimitsIn()
    evidence_cutoff: AwareDatetime | None = Field(
        default=None,
        description="The evaluation's close: runs completed, expert scores given and arena votes cast "
        "after it are kept, marked out of window, and never count. Absent: fixed when the stage's first "
        "result version is published, to the instant that version's evidence was gathered",
    )

    @model_validator(mode="after")
    def _distinct(self) -> CriteriaIn:
        if len({s.suite_id for s in self.suites}) != len(self.suites):
            raise ValueError("each suite may be listed once")
        if len(set(self.tie_break)) != len(self.tie_break):
            raise ValueError("each part may appear once in the tie-break")
        return self


class SuiteWeightOut(BaseModel):
    suite_id: uuid.UUID
    suite_key: str
    suite_version: str
    content_hash: str
    key_revision: int = Field(
        description="The answer key's revision in force (errata: GET /v1/suites/{id}/key-revisions)"
    )
    weight: float
    min_accuracy: float | None
    scoring: ChoiceScoring = ChoiceScoring.GENERATE
    normalisation: Normalisation | None = None
    samples: int = Field(default=1, description="Executed code: samples per item")
    pass_k: int = Field(default=1, description="Executed code: the k of pass@k")


class CriteriaOut(BaseModel):
    stage_id: uuid.UUID
    suites: list[SuiteWeightOut]
    part_weights: dict[str, float]
    overall_threshold: float | None
    advancing: int
    tie_break: list[str]
    arena_min_votes: int = Field(description="Counted arena votes each model needs before a proposal")
    decoding: dict[str, float | int]
    limits: dict[str, float | int]
    revision: int
    updated_at: datetime
    frozen_at: datetime | None = Field(description="Set when evaluation started: no change is accepted since")
    evidence_cutoff: datetime | None = Field(
        description="Evidence recorded after this instant is out of window (None: not fixed yet)"
    )
    evidence_cutoff_source: str | None = Field(
        description="criteria: stated with the criteria; publication: fixed by the first publication"
    )
