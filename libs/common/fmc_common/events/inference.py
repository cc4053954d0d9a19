"""Inference runs: requested by scoring, executed by the inference gateway.

Scoring emits ``InferenceRunRequested`` (on its own topic, keyed by run id; ``...v2`` for a run on a
serving convention v1 cannot say, see ``run_request``); the gateway answers
every item on the given Triton endpoint and reports on its topic, keyed by the same run id:
``InferenceRunProgressed`` (every N items or T seconds), then exactly one of
``InferenceRunCompleted`` or ``InferenceRunFailed``; ``InferenceRunStuck`` when a run made no
progress for a while (it may still complete later).

The items themselves never travel in an event: ``ItemsSource`` is a reference (an HTTP(S) URL on
scoring's API, or a file for the embedded demo) to a JSON Lines document of
``{"item_id": "...", "prompt": "..."}`` or ``{"item_id": "...", "messages": [{"role", "content"}, ...]}``
objects (``{"item_id", "context", "continuations"}`` for a ``scoring: loglikelihood`` run).
Prompts only: the gateway never sees answer keys,
and refuses a document whose lines carry any other field.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fmc_common.events.base import Event
from fmc_common.events.topics import Topic

SHA256_HEX = r"^[0-9a-f]{64}$"


class GpuPool(StrEnum):
    H100 = "H100"
    B200 = "B200"


class InferenceProtocol(StrEnum):
    GRPC = "grpc"
    HTTP = "http"


class ServingConvention(StrEnum):
    """How the gateway talks to a model (docs/triton-contract.md): the request built, the answer read."""

    FMC_TEXT = "fmc-text"
    """Our own signature: ``prompt`` (+ ``max_tokens``, ...) -> ``text`` and token counts."""
    TRITON_VLLM = "triton-vllm"
    """Triton's vLLM backend: ``text_input``, ``sampling_parameters`` (JSON), ... -> ``text_output``."""
    TENSORRT_LLM_ENSEMBLE = "tensorrt-llm-ensemble"
    """TensorRT-LLM's ``ensemble`` model: ``text_input``, ``max_tokens``, ... -> ``text_output``."""
    TRITON_GENERATE = "triton-generate"
    """Triton's generate extension: HTTP ``POST /v2/models/{model}/generate`` -> ``text_output``."""
    OPENAI_CHAT = "openai-chat"
    """An OpenAI-compatible server (Triton's OpenAI frontend, vLLM, SGLang, llama.cpp):
    ``POST /v1/chat/completions`` with the item's messages; the server applies the model's chat
    template; streamed (server-sent events) so time to first token is measured."""


V1_CONVENTIONS: tuple[ServingConvention, ...] = (
    ServingConvention.FMC_TEXT,
    ServingConvention.TRITON_VLLM,
    ServingConvention.TENSORRT_LLM_ENSEMBLE,
    ServingConvention.TRITON_GENERATE,
)
"""The conventions ``InferenceRunRequested`` v1 can say; a run on another one is requested with v2."""

CHAT_TEMPLATES: tuple[str, ...] = ("chatml", "llama-3", "mistral-instruct", "gemma")
"""The names of the gateway's chat templates (``fmc_gateway.serving.templates`` renders them;
docs/triton-contract.md shows each): the only values a run endpoint's ``chat_template`` may take."""

RAW_TEXT_CONVENTIONS = frozenset(set(ServingConvention) - {ServingConvention.OPENAI_CHAT})
"""Conventions that send the model one text: chat messages reach them through a chat template."""


class RunScoring(StrEnum):
    """How the model is asked: docs/triton-contract.md, "Log-likelihood extension"."""

    GENERATE = "generate"
    """Each item's prompt (or messages) is answered with generated text."""
    LOGLIKELIHOOD = "loglikelihood"
    """Each item is a ``context`` and its ``continuations``: the model gives the sum of the log-probs
    of each continuation's tokens after the context, and their count (no text is generated)."""


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class RunEndpoint(_Part):
    """The Triton endpoint of the submission (same field names as the registry's submission endpoint)."""

    url: str = Field(min_length=1, max_length=500, description="host:port (or http(s)://host:port)")
    model_name: str = Field(min_length=1, max_length=200)
    model_version: str = Field(default="", max_length=50, description="empty: Triton's latest version")
    protocol: InferenceProtocol = InferenceProtocol.GRPC
    gpu_pool: GpuPool
    convention: ServingConvention = Field(
        default=ServingConvention.FMC_TEXT, description="how the model is served (docs/triton-contract.md)"
    )
    chat_template: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9.-]*$",
        description="for raw-text conventions: the name of the chat template (from the gateway's "
        "catalogue, docs/triton-contract.md) that renders an item's chat messages into its prompt",
    )


class SuiteReference(_Part):
    """Which benchmark suite (and exactly which content) the items come from."""

    suite_id: str = Field(min_length=1, max_length=200)
    version: str = Field(min_length=1, max_length=50)
    content_hash: str = Field(pattern=SHA256_HEX, description="sha256 of the suite's content, hex")


class ItemsSource(_Part):
    """Where the gateway fetches the items: a JSON Lines document of ``{item_id, prompt}`` objects.

    ``uri`` is ``http://`` / ``https://`` under one of the gateway's configured bases (fetched with
    the gateway's items token as a bearer) or ``file://`` / an absolute path below the gateway's
    configured items directory; any other reference is refused (``uri-not-allowed``).
    """

    uri: str = Field(min_length=1, max_length=2000)
    item_count: int = Field(ge=1, le=1_000_000)
    sha256: str | None = Field(
        default=None, pattern=SHA256_HEX, description="sha256 of the exact bytes; checked when given"
    )


class DecodingParameters(_Part):
    """Generation parameters, identical for every team of a stage for one suite."""

    max_tokens: int = Field(default=256, ge=1, le=32_768)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


class RunLimits(_Part):
    """Limits applied to every request of the run, identical for every team of a stage."""

    request_timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    max_attempts: int = Field(
        default=5, ge=1, le=20, description="per item, for timeouts and transient errors"
    )


class RunRequest(Event):
    """Scoring asks the gateway to answer every item of a suite with one submission's model.

    The fields of every version of the run request; ``run_request`` picks the version to publish.
    """

    topic = Topic.SCORING

    run_id: uuid.UUID
    stage_id: uuid.UUID
    submission_id: uuid.UUID
    team_id: uuid.UUID
    endpoint: RunEndpoint
    suite: SuiteReference
    items: ItemsSource
    decoding: DecodingParameters
    limits: RunLimits = RunLimits()
    requested_at: datetime
    scoring: RunScoring = Field(
        default=RunScoring.GENERATE,
        description="generate (the default) or loglikelihood: then every item is a context and its "
        "continuations, and each record's text is the continuations' log-probabilities (JSON)",
    )

    def partition_key(self) -> str:
        return str(self.run_id)

    def subject(self) -> str | None:
        return f"runs/{self.run_id}"


class InferenceRunRequested(RunRequest):
    """Scoring asks the gateway to answer every item of a suite with one submission's model."""

    event_type = "fmc.scoring.inference-run-requested.v1"

    @model_validator(mode="after")
    def _v1_says_the_convention(self) -> InferenceRunRequested:
        # v1 consumers know four conventions: a run on any other one is published as v2.
        if self.endpoint.convention not in V1_CONVENTIONS:
            raise ValueError(
                f"convention {self.endpoint.convention} needs {InferenceRunRequestedV2.event_type}"
            )
        return self

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """v1's published schema: its ``convention`` keeps the four values v1 consumers know."""
        schema = super().json_schema()
        schema["$defs"]["ServingConvention"]["enum"] = [str(c) for c in V1_CONVENTIONS]
        return schema


class InferenceRunRequestedV2(RunRequest):
    """Scoring asks the gateway to answer every item of a suite with one submission's model.

    The same fields as v1, with every serving convention: published only for a run whose convention
    v1 cannot say (docs/decisions/2026-12-05-run-request-v2-for-new-conventions.md).
    """

    event_type = "fmc.scoring.inference-run-requested.v2"


def run_request(**fields: Any) -> InferenceRunRequested | InferenceRunRequestedV2:
    """The run request in the oldest version that can say it: v1 unless the convention is new."""
    endpoint = RunEndpoint.model_validate(fields["endpoint"])
    if endpoint.convention in V1_CONVENTIONS:
        return InferenceRunRequested(**fields)
    return InferenceRunRequestedV2(**fields)


class _RunEvent(Event):
    topic = Topic.GATEWAY

    run_id: uuid.UUID
    stage_id: uuid.UUID
    submission_id: uuid.UUID
    team_id: uuid.UUID

    def partition_key(self) -> str:
        return str(self.run_id)

    def subject(self) -> str | None:
        return f"runs/{self.run_id}"


class InferenceRunProgressed(_RunEvent):
    """Items answered so far (sent every N items or T seconds while the run progresses)."""

    event_type = "fmc.inference-gateway.inference-run-progressed.v1"

    total: int = Field(ge=0)
    answered: int = Field(ge=0, description="items with a stored record (errors included)")
    errored: int = Field(ge=0, description="items whose stored record is an inference error")
    status: str = Field(max_length=32)
    at: datetime


class RunEfficiency(BaseModel):
    """How fast a run's answers came (docs/gateway.md "Efficiency"): over its ``ok`` records, the
    time to first token (streamed answers only), the total latency and the generation speed;
    percentiles by nearest rank; a part is null when no record has it (e.g. nothing streamed)."""

    model_config = ConfigDict(frozen=True)

    items_timed: int = Field(ge=0, description="records answered (status ok): their latency is known")
    items_streamed: int = Field(ge=0, description="of those, answers streamed (time to first token known)")
    ttft_ms_p50: float | None = Field(default=None, ge=0)
    ttft_ms_p95: float | None = Field(default=None, ge=0)
    latency_ms_p50: float | None = Field(default=None, ge=0)
    latency_ms_p95: float | None = Field(default=None, ge=0)
    tokens_per_second_median: float | None = Field(
        default=None, ge=0, description="completion tokens per second of generation, median"
    )


class InferenceRunCompleted(_RunEvent):
    """Every item has exactly one stored record; read them through the gateway's responses API."""

    event_type = "fmc.inference-gateway.inference-run-completed.v1"

    total: int = Field(ge=0)
    answered: int = Field(ge=0)
    errored: int = Field(ge=0)
    responses_sha256: str = Field(
        pattern=SHA256_HEX, description="content hash over the records, in item order"
    )
    suite_content_hash: str = Field(pattern=SHA256_HEX)
    gpu_pool: GpuPool
    hardware_class: str = Field(max_length=100)
    server_version: str = Field(max_length=50)
    model_version: str = Field(max_length=50)
    started_at: datetime
    completed_at: datetime
    # The rest of the run's conditions (added later; empty or absent in older events), so that
    # every team's can be compared: what served the model, which model, and how it decoded.
    model_name: str = Field(default="", max_length=200)
    serving_stack: str = Field(
        default="",
        max_length=200,
        description="server name and version and the model's backend or platform, "
        "e.g. 'triton 2.51.0, backend python'",
    )
    decoding: DecodingParameters | None = None
    efficiency: RunEfficiency | None = Field(
        default=None, description="how fast the answers came (absent in older events)"
    )


class InferenceRunFailed(_RunEvent):
    """The run cannot be executed; ``reason`` says what the team or the operator can do about it."""

    event_type = "fmc.inference-gateway.inference-run-failed.v1"

    code: str = Field(
        max_length=64, description="stable machine-readable reason, e.g. model-contract-mismatch"
    )
    reason: str = Field(max_length=4000)
    failed_at: datetime


class InferenceRunStuck(_RunEvent):
    """The run made no progress for the configured time; ``waiting_on`` says on what."""

    event_type = "fmc.inference-gateway.inference-run-stuck.v1"

    waiting_on: str = Field(max_length=2000)
    total: int = Field(ge=0)
    answered: int = Field(ge=0)
    last_progress_at: datetime
    flagged_at: datetime


class InferenceRunWaiting(_RunEvent):
    """The run is paused on something outside the gateway and resumes by itself; sent once per pause.

    ``cause`` is a stable code: ``breaker-open`` (the endpoint stopped answering while the run was
    answering items), ``endpoint-unreachable`` (the readiness check reached no server),
    ``endpoint-not-allowed`` (the server is not among the configured Triton hosts) or
    ``items-source-unavailable``. The run fails with ``wait-limit-exceeded`` if the pause lasts.
    """

    event_type = "fmc.inference-gateway.inference-run-waiting.v1"

    cause: str = Field(max_length=64, description="stable machine-readable cause, e.g. breaker-open")
    reason: str = Field(max_length=2000)
    total: int = Field(ge=0)
    answered: int = Field(ge=0)
    waiting_since: datetime
