"""Requests and responses of /v1/originality."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fmc_common.events.vocabulary import Verdict
from fmc_common.inputs import Input, Reason, printable
from fmc_scoring.originality.report import Method


class DonorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, examples=["Qwen2.5-VL-7B-Instruct"])
    revision: str = Field(
        min_length=1, max_length=200, description="The pinned revision (e.g. a commit hash)"
    )
    weights_path: str = Field(
        min_length=1,
        max_length=1000,
        description="A .safetensors file, a sharded index or a directory, relative to the weights root",
    )

    _check = field_validator("name", "revision", "weights_path")(printable)


class DonorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    revision: str
    source: str
    tensor_count: int
    parameter_count: int
    registered_by: str
    registered_at: datetime
    retired_at: datetime | None = Field(description="Set once retired: later checks leave it out")
    retired_by: str | None
    retirement_reason: str | None


class DonorRetirement(Input):
    reason: Reason = Field(
        description="Why the donor must not be compared with (audited), e.g. it is a team's own release"
    )


class DonorPage(BaseModel):
    items: list[DonorOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class CheckCreate(Input):
    """Which frozen submission to check. No path and no team: the team is the submission's, and its
    weights are read from the location the registry holds for it, verified against its manifest."""

    stage_id: uuid.UUID
    submission_id: uuid.UUID = Field(description="A submission frozen for the stage's evaluation")
    reason: Reason | None = Field(
        default=None, description="Why the team is checked again (required for a re-check; audited)"
    )


class ModuleFindingOut(BaseModel):
    module: str
    component: str
    parameter_share: float
    parameters: int
    decision: Verdict
    method: Method
    statistic: str
    value: float | None
    baseline_mean: float | None
    baseline_sd: float | None
    z_score: float | None
    p_value: float | None
    tensors_covered: int
    tensors_total: int
    donor: str | None
    donor_revision: str | None
    donor_modules: list[str]
    matched_tensors: list[str]
    figures: dict[str, Any] = Field(description="Every tensor's figures against the donor, with baselines")
    caveats: list[str]


class ReportOut(BaseModel):
    verdict: Verdict
    summary: str
    reused_components: list[str]
    reused_modules: list[str]
    review_modules: list[str]
    donors_compared: list[str]
    parameters: int
    tensors: int
    bytes_checked: int
    modules: list[ModuleFindingOut]
    context: dict[str, Any] = Field(
        description="Shared architecture, config, tokenizer, alignments: not evidence"
    )
    caveats: list[str]
    thresholds: dict[str, float]


class CheckSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    stage_id: uuid.UUID
    team_id: uuid.UUID
    submission_id: uuid.UUID | None
    weights_path: str = Field(description="The submission's weights location in the weights store")
    manifest_digest: str | None = Field(description="The frozen manifest the files were verified against")
    recheck_of: uuid.UUID | None = Field(description="The check this one supersedes (a re-check)")
    reason: str | None = Field(description="Why the team was checked again")
    status: str
    verdict: Verdict
    summary: str
    created_at: datetime


class CheckOut(CheckSummary):
    report: ReportOut


class CheckPage(BaseModel):
    items: list[CheckSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )
