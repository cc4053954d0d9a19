from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fmc_common.events.inference import (
    DecodingParameters,
    ItemsSource,
    RunEfficiency,
    RunEndpoint,
    RunLimits,
    RunRequest,
    RunScoring,
    SuiteReference,
    run_request,
)
from fmc_common.inputs import NulFree
from fmc_gateway.endpoints.schemas import DecodingIn, EndpointIn

_STRICT = ConfigDict(frozen=True, extra="forbid")


class SuiteIn(SuiteReference):
    model_config = _STRICT


class ItemsIn(ItemsSource):
    model_config = _STRICT


class LimitsIn(RunLimits):
    model_config = _STRICT


class RunCreate(NulFree):
    """The same request as the ``InferenceRunRequested`` event, for callers that use the API."""

    model_config = _STRICT

    run_id: uuid.UUID
    stage_id: uuid.UUID
    submission_id: uuid.UUID
    team_id: uuid.UUID
    endpoint: EndpointIn
    suite: SuiteIn
    items: ItemsIn
    decoding: DecodingIn = DecodingIn()
    limits: LimitsIn = LimitsIn()
    scoring: RunScoring = RunScoring.GENERATE

    def to_request(self, requested_at: datetime) -> RunRequest:
        return run_request(
            run_id=self.run_id,
            stage_id=self.stage_id,
            submission_id=self.submission_id,
            team_id=self.team_id,
            endpoint=RunEndpoint.model_validate(self.endpoint.model_dump()),
            suite=SuiteReference.model_validate(self.suite.model_dump()),
            items=ItemsSource.model_validate(self.items.model_dump()),
            decoding=DecodingParameters.model_validate(self.decoding.model_dump()),
            limits=RunLimits.model_validate(self.limits.model_dump()),
            requested_at=requested_at,
            scoring=self.scoring,
        )


class EndpointOut(BaseModel):
    url: str
    protocol: str
    model_name: str
    model_version: str
    convention: str = Field(description="how the model is served (docs/triton-contract.md)")
    chat_template: str | None = Field(
        description="the chat template every item of the run is rendered through (raw-text conventions)"
    )


class RunConditions(BaseModel):
    """Under what the run's answers were produced, the same for every team of a stage and suite
    except what the team chose (its model and serving stack): compared in an objection."""

    gpu_pool: str
    hardware_class: str
    serving_stack: str | None = Field(
        description="server name and version, model backend or platform (from the readiness check)"
    )
    server_version: str | None
    model_name: str
    model_version: str | None = Field(description="the version that answered (set once prepared)")
    decoding: dict[str, Any]
    limits: dict[str, Any]


class RunOut(BaseModel):
    """A run and where it stands; ``status_reason`` says why it waits or failed, for a team to act on."""

    id: uuid.UUID
    stage_id: uuid.UUID
    submission_id: uuid.UUID
    team_id: uuid.UUID
    status: str = Field(description="pending, running, waiting, completed or failed")
    status_reason: str | None
    failure_code: str | None
    stuck_since: datetime | None = Field(description="set while the run makes no progress")
    total: int
    answered: int
    errored: int
    endpoint: EndpointOut
    gpu_pool: str
    hardware_class: str
    server_version: str | None
    model_version: str | None
    suite_id: str
    suite_version: str
    suite_hash: str
    decoding: dict[str, Any]
    limits: dict[str, Any]
    responses_sha256: str | None
    efficiency: RunEfficiency | None = Field(
        default=None, description="how fast the answers came, read off the records when the run completed"
    )
    requested_at: datetime
    accepted_at: datetime
    prepared_at: datetime | None
    finished_at: datetime | None
    last_progress_at: datetime
    conditions: RunConditions


class RunPage(BaseModel):
    items: list[RunOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class ResponseOut(BaseModel):
    """The record of one item: what the model answered (or the error it gave), and how."""

    model_config = ConfigDict(from_attributes=True)

    item_id: str
    seq: int = Field(description="position of the item in the items document")
    status: str = Field(description="ok, or error (the model refused the item, or it timed out)")
    text: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    error: str | None
    latency_ms: float
    ttft_ms: float | None = Field(
        default=None, description="time to the first piece of text; null when the answer was not streamed"
    )
    tokens_per_second: float | None = Field(
        default=None,
        description="completion tokens per second of generation (after the first token when streamed); "
        "null when the model does not count its tokens",
    )
    attempts: int
    server_version: str
    model_version: str
    started_at: datetime
    finished_at: datetime


class ResponsePage(BaseModel):
    run_id: uuid.UUID
    run_status: str
    total: int
    items: list[ResponseOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )
