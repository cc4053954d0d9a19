from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from fmc_common.events.inference import DecodingParameters, RunEndpoint
from fmc_common.inputs import NulFree

_STRICT = ConfigDict(frozen=True, extra="forbid")
NEXT_CURSOR = "Pass as `cursor` to get the next page; null on the last page."


# Shared by runs, readiness checks and arena contenders (no docstring: it would change the OpenAPI).
class EndpointIn(RunEndpoint):
    model_config = _STRICT


class DecodingIn(DecodingParameters):
    model_config = _STRICT


class ReadinessCheck(NulFree):
    model_config = ConfigDict(extra="forbid")

    endpoint: EndpointIn
    decoding: DecodingIn | None = None


class ReadinessOut(BaseModel):
    ready: bool
    code: str | None = Field(description="endpoint-unreachable, model-not-ready or model-contract-mismatch")
    reason: str | None
    violations: list[str]
    server_version: str
    model_version: str
    convention: str = Field(description="the serving convention checked (docs/triton-contract.md)")
    sent_inputs: dict[str, str] = Field(description="the inputs a run would send, with their datatypes")


class EndpointRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    url: str
    protocol: str
    model_name: str
    model_version: str
    gpu_pool: str
    convention: str
    team_id: uuid.UUID | None
    submission_id: uuid.UUID | None
    registered_at: datetime
    last_checked_at: datetime | None
    last_check_ok: bool | None
    last_check_reason: str | None
    server_version: str | None


class EndpointPage(BaseModel):
    items: list[EndpointRecordOut]
    next_cursor: str | None = Field(description=NEXT_CURSOR)
