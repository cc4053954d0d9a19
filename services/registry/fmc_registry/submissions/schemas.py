"""Submission bodies, validated at the edge: endpoint, weights manifest, model card."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from fmc_common.events.inference import CHAT_TEMPLATES, ServingConvention
from fmc_common.inputs import Input, Name
from fmc_registry.submissions.models import GpuPool, Protocol

Text = Annotated[str, Field(min_length=1, max_length=5000)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="Lower-case hex SHA-256")]


def _inside(path: str) -> str:
    if any(part in ("", ".", "..") for part in path.split("/")):
        raise ValueError("must be a relative path inside the weights folder (no empty, . or .. parts)")
    return path


# Relative POSIX paths inside the weights folder; no parent references, no absolute paths.
RelativePath = Annotated[
    str,
    Field(min_length=1, max_length=500, pattern=r"^[A-Za-z0-9._-][A-Za-z0-9._/-]*$"),
    AfterValidator(_inside),
]


class BaseKind(StrEnum):
    FROM_SCRATCH = "from-scratch"
    OPEN_COMPONENTS = "open-components"


class ComponentKind(StrEnum):
    CODE = "code"
    ARCHITECTURE = "architecture"
    TOKENIZER = "tokenizer"
    WEIGHTS = "weights"
    DATA = "data"


_SCHEMES = {Protocol.HTTP: {"http", "https"}, Protocol.GRPC: {"grpc", "grpcs", "http", "https"}}


class EndpointIn(Input):
    url: str = Field(min_length=1, max_length=500, examples=["http://triton.team-a.svc:8000"])
    model_name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,200}$")
    model_version: str = Field(pattern=r"^[1-9][0-9]{0,9}$", description="Triton model version")
    protocol: Protocol
    gpu_pool: GpuPool
    convention: ServingConvention = Field(
        default=ServingConvention.FMC_TEXT,
        description="how the gateway talks to the model: fmc-text (our signature), triton-vllm, "
        "tensorrt-llm-ensemble, triton-generate or openai-chat (an OpenAI-compatible server, HTTP) "
        "(docs/triton-contract.md)",
    )
    chat_template: str | None = Field(
        default=None,
        description="for the raw-text conventions: the chat template that renders chat items into the "
        f"model's prompt, one of {', '.join(CHAT_TEMPLATES)} (docs/triton-contract.md); none for "
        "openai-chat, whose server applies the model's own",
    )

    @field_validator("chat_template")
    @classmethod
    def known_template(cls, value: str | None) -> str | None:
        if value is not None and value not in CHAT_TEMPLATES:
            raise ValueError(
                f"unknown chat template {value!r}: the gateway renders {', '.join(CHAT_TEMPLATES)}"
            )
        return value

    @model_validator(mode="after")
    def url_matches_protocol(self) -> EndpointIn:
        try:
            parts = urlsplit(self.url)
            port = parts.port
        except ValueError as exc:
            raise ValueError("url is not a valid URL") from exc
        if parts.scheme not in _SCHEMES[self.protocol] or not parts.hostname:
            allowed = ", ".join(sorted(_SCHEMES[self.protocol]))
            raise ValueError(f"url needs a host and a scheme among {allowed} for protocol {self.protocol}")
        if parts.username or parts.password or port == 0:
            raise ValueError("url must not carry credentials, and its port must be 1-65535")
        self._check_convention()
        return self

    def _check_convention(self) -> None:
        http_only = (ServingConvention.TRITON_GENERATE, ServingConvention.OPENAI_CHAT)
        if self.convention in http_only and self.protocol != Protocol.HTTP:
            raise ValueError(f"the {self.convention} convention is HTTP only: use protocol http")
        if self.convention == ServingConvention.OPENAI_CHAT and self.chat_template is not None:
            raise ValueError(
                "an openai-chat server applies the model's own chat template: leave chat_template empty"
            )


class ManifestFile(Input):
    path: RelativePath
    sha256: Sha256
    size_bytes: int = Field(ge=1, le=10**13)


class ShardIndex(Input):
    """The index of sharded safetensors (``model.safetensors.index.json``): tensor name -> shard file."""

    path: RelativePath
    weight_map: dict[Annotated[str, Field(min_length=1, max_length=500)], RelativePath] = Field(
        min_length=1, max_length=100_000
    )


class Architecture(Input):
    family: Name = Field(examples=["decoder-only transformer"])
    parameters: int = Field(ge=1, le=10**13)
    layers: int | None = Field(default=None, ge=1, le=10_000)
    hidden_size: int | None = Field(default=None, ge=1, le=1_000_000)
    attention_heads: int | None = Field(default=None, ge=1, le=100_000)
    vocabulary_size: int | None = Field(default=None, ge=1, le=10_000_000)
    context_length: int | None = Field(default=None, ge=1, le=100_000_000)


class OpenComponent(Input):
    name: Name
    kind: ComponentKind
    source: str = Field(min_length=1, max_length=500)
    licence: str | None = Field(default=None, max_length=100)


class DeclaredBase(Input):
    kind: BaseKind
    components: list[OpenComponent] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def consistent(self) -> DeclaredBase:
        if self.kind == BaseKind.OPEN_COMPONENTS and not self.components:
            raise ValueError("open-components needs the list of components used")
        if self.kind == BaseKind.FROM_SCRATCH and any(
            c.kind == ComponentKind.WEIGHTS for c in self.components
        ):
            raise ValueError("a from-scratch model cannot declare reused weights; declare open-components")
        return self


class WeightsManifest(Input):
    files: list[ManifestFile] = Field(min_length=1, max_length=10_000)
    index: ShardIndex | None = None
    architecture: Architecture
    declared_base: DeclaredBase

    @model_validator(mode="after")
    def index_covers_the_shards(self) -> WeightsManifest:
        paths = [f.path for f in self.files]
        if len(set(paths)) != len(paths):
            raise ValueError("file paths must be unique")
        shards = {p for p in paths if p.endswith(".safetensors")}
        if len(shards) > 1 and self.index is None:
            raise ValueError("sharded safetensors need an index (weight_map)")
        if self.index is not None:
            if self.index.path not in paths:
                raise ValueError("the index file must be listed in files")
            missing = set(self.index.weight_map.values()) - shards
            if missing:
                raise ValueError(f"the index maps tensors to unlisted shards: {sorted(missing)[:5]}")
        return self


class ModelCard(Input):
    description: Text
    languages: list[Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]] = Field(
        min_length=1, max_length=50
    )
    licence: str = Field(min_length=1, max_length=100)
    intended_use: Text
    limitations: Text
    training_data: Text


class SubmissionCreate(Input):
    endpoint: EndpointIn
    manifest: WeightsManifest
    model_card: ModelCard


class EndpointOut(BaseModel):
    url: str
    model_name: str
    model_version: str
    protocol: str
    gpu_pool: str
    convention: str = "fmc-text"
    chat_template: str | None = None


class SubmissionOut(BaseModel):
    id: uuid.UUID
    stage_id: uuid.UUID
    team_id: uuid.UUID
    version: int
    endpoint: EndpointOut
    manifest: dict[str, Any]
    manifest_digest: str
    weights_location: str = Field(
        description=(
            "Where the team places this submission's weights: a folder relative to the shared weights "
            "store, holding every file of the manifest at its manifest path (docs/registry.md)"
        ),
        examples=["submissions/<team_id>/<submission_id>/"],
    )
    model_card: dict[str, Any]
    registered_at: datetime
    frozen_at: datetime | None


class StatementCreate(Input):
    text: str = Field(min_length=1, max_length=20_000)


class StatementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    stage_id: uuid.UUID
    team_id: uuid.UUID
    text: str
    late: bool = Field(description="Sent after the evaluation began: recorded, never an evaluation input")
    submitted_at: datetime


class EvaluationInput(BaseModel):
    submission_id: uuid.UUID
    team_id: uuid.UUID
    version: int
    endpoint: EndpointOut
    manifest_digest: str
