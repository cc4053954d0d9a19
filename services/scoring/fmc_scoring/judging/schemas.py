from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fmc_common.events.inference import RunEndpoint
from fmc_common.inputs import Input, Version
from fmc_scoring.judging.verdicts import DEFAULT_RUBRIC, DEFAULT_TEMPLATES, JudgeMode, missing_placeholders

DEFAULT_TEMPLATE_VERSION = "mt-bench-v1"


class JudgeEndpointIn(RunEndpoint):
    """The judge's endpoint, as a submission's, with its model version pinned (no "latest")."""

    model_version: str = Field(
        min_length=1, max_length=50, description="pinned: the same judge for every team"
    )


class JudgeIn(Input):
    """A suite's judge: identical for every team. Template and rubric default to MT-Bench's
    (`mt-bench-v1`); a custom template names its own version."""

    mode: JudgeMode
    endpoint: JudgeEndpointIn
    template: Annotated[str, Field(min_length=1, max_length=20_000)] | None = Field(
        default=None,
        description="placeholders {question} {answer} {reference} {rubric} (single), "
        "{question} {answer_a} {answer_b} {rubric} (pairwise); default: MT-Bench's",
    )
    template_version: Version | None = Field(default=None, description="required with a custom template")
    rubric: Annotated[str, Field(min_length=1, max_length=20_000)] = DEFAULT_RUBRIC
    max_tokens: int = Field(default=512, ge=1, le=8192)
    max_attempts: int = Field(default=2, ge=1, le=5, description="judge runs per judgement, retries included")

    @model_validator(mode="after")
    def _template_fits_mode(self) -> JudgeIn:
        if self.template is None:
            if self.template_version is not None:
                raise ValueError("template_version names a custom template; give the template")
            return self
        if self.template_version is None:
            raise ValueError("a custom template needs its template_version")
        missing = missing_placeholders(self.mode, self.template)
        if missing:
            raise ValueError(f"a {self.mode} template needs the placeholders {missing}")
        return self

    def template_text(self) -> tuple[str, str]:
        if self.template is None:
            return DEFAULT_TEMPLATES[self.mode], DEFAULT_TEMPLATE_VERSION
        assert self.template_version is not None  # checked above
        return self.template, self.template_version


class JudgeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    suite_id: uuid.UUID
    revision: int = Field(description="1 as set, one more for each change")
    mode: JudgeMode
    endpoint: RunEndpoint
    template: str
    template_version: str
    rubric: str
    max_tokens: int
    max_attempts: int
    content_sha256: str
    created_at: datetime


class JudgementOut(BaseModel):
    """One judgement of one item in one order and attempt, with the judge's raw output."""

    model_config = ConfigDict(from_attributes=True)

    item_id: str
    position: str
    attempt: int
    judge_run_id: uuid.UUID
    raw_output: str | None
    parsed: bool
    rating: float | None
    outcome: str | None


class TeamAgreement(BaseModel):
    team_id: uuid.UUID
    judged_credit: float = Field(description="mean credit over the team's graded judged runs")
    panel_score: float
    judge_rank: float
    panel_rank: float


class AgreementOut(BaseModel):
    """Judge and expert panel on the teams both scored: experts score teams, not items, so the
    agreement is Spearman's rank correlation of the teams' judged credit and panel score."""

    stage_id: uuid.UUID
    teams: list[TeamAgreement]
    spearman: float | None = Field(description="null with fewer than two teams or no variation")
