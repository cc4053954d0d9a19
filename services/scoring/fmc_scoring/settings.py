"""Scoring settings: environment variables prefixed FMC_SCORING_ (broker: FMC_KAFKA_, auth: FMC_AUTH_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from fmc_common.settings import ServiceSettings, WithArtefactStore, WithInfrastructure


class ScoringSettings(ServiceSettings, WithInfrastructure, WithArtefactStore):
    model_config = SettingsConfigDict(env_prefix="FMC_SCORING_", extra="ignore")

    service_name: str = "scoring"
    database_url: str = "sqlite+aiosqlite:///var/scoring.db"
    http_port: int = 8003
    grpc_port: int = 50063
    originality_weights_root: Path = Field(
        default=Path("var/weights"),
        description="Directory holding the donor models' weights; donor paths are relative to it",
    )
    submission_weights_root: Path | None = Field(
        default=None,
        description=(
            "The shared weights store where teams deliver their submissions' weights, at the location "
            "the registry states for each submission (submissions/<team_id>/<submission_id>/); "
            "unset: originality_weights_root"
        ),
    )
    s3_weights_prefix: str = Field(
        default="weights",
        description="With artefact_store=s3: the key prefix of donor weights (donor paths are below it)",
    )
    s3_submission_weights_prefix: str | None = Field(
        default=None,
        description="With artefact_store=s3: the key prefix below which the registry's weights locations "
        "(submissions/<team_id>/<submission_id>/) are; unset: s3_weights_prefix",
    )
    s3_suites_prefix: str = Field(
        default="suites", description="With artefact_store=s3: the key prefix of suite files"
    )
    registry_url: str = Field(
        default="http://127.0.0.1:8001",
        description="The registry's REST API, where the originality check reads a submission's manifest",
    )
    registry_audience: str = Field(
        default="registry",
        description="The registry's service name: the audience of the service tokens sent to it",
    )
    registry_timeout_seconds: float = Field(default=10.0, gt=0)
    originality_max_header_bytes: int = Field(
        default=16 * 1024 * 1024,  # = safetensors_io.ReaderLimits (a test keeps them equal)
        gt=0,
        description="Largest safetensors JSON header the originality check reads (bytes, per file)",
    )
    originality_max_tensors: int = Field(
        default=250_000,
        gt=0,
        description="Most tensors a checked model may have (all shards together); more: unreadable",
    )
    originality_max_total_bytes: int = Field(
        default=4 * 1024**4,
        gt=0,
        description="Largest model the originality check reads (bytes, all shards together)",
    )

    @property
    def submission_weights(self) -> Path:
        """Where submissions' weights are read from (``submission_weights_root``, else the weights root)."""
        return self.submission_weights_root or self.originality_weights_root

    # Suites, planning and grading (see docs/scoring.md).
    suites_directory: Path = Field(
        default=Path("var/suites"),
        description="Local suite files (JSONL, lm-eval tasks, HF datasets) are imported from here",
    )
    items_base_url: str = Field(
        default="http://127.0.0.1:8003",
        description="How the gateway reaches this service (items at <base>/v1/runs/{id}/items)",
    )
    gateway_url: str = Field(default="http://127.0.0.1:8002", description="The inference gateway's REST API")
    gateway_audience: str = Field(
        default="inference-gateway",
        description="The gateway's service name: the audience of the service tokens sent to it",
    )
    gateway_timeout_seconds: float = Field(default=30.0, gt=0)
    grading_bootstrap_rounds: int = Field(default=2000, ge=100, le=100_000)
    arena_daily_votes: int = Field(
        default=50, ge=1, le=10_000, description="Counted votes per voter per Seoul day"
    )
    arena_anonymous_daily_votes: int = Field(
        default=20,
        ge=1,
        le=10_000,
        description="Counted votes per anonymous voter (public arena) per Seoul day",
    )
    arena_public_callers: list[str] = Field(
        default=["service:web"],
        description="The service tokens' subjects that may cast anonymous voters' battles and votes (the "
        "web tier, which identifies and limits them)",
    )
    arena_bootstrap_rounds: int = Field(default=1000, ge=10, le=100_000)
    arena_battle_expiry_seconds: int = Field(
        default=3600,
        ge=60,
        le=7 * 86_400,
        description="A battle takes its vote within this time of being started; later, 410 battle-expired",
    )
    panel_sample_items: int = Field(
        default=5,
        ge=1,
        le=50,
        description="Benchmark items whose prompts and responses the expert panel reads per model (the "
        "same items for every model, chosen from the stage and its decoding seed)",
    )
    panel_sample_chars: int = Field(
        default=4000,
        ge=200,
        le=100_000,
        description="A sampled prompt or response shown to the panel is cut to this many characters",
    )

    # Executed code (see docs/scoring.md and docs/operations.md: bubblewrap here, a locked-down Job or
    # gVisor in production).
    sandbox_python: str = Field(
        default="/usr/bin/python3", description="The interpreter run in the sandbox (standard library only)"
    )
    sandbox_binds: list[str] = Field(
        default=["/usr/lib/python3.11", "/usr/lib/x86_64-linux-gnu", "/usr/lib64"],
        description="Directories bound read-only into the sandbox: the interpreter's library and the shared "
        "libraries it loads, nothing else",
    )
    sandbox_bwrap: str = Field(default="/usr/bin/bwrap")
    sandbox_concurrency: int = Field(default=2, ge=1, le=64, description="Executions at once per grading")
    sandbox_cpu_seconds: int = Field(default=5, ge=1, le=600)
    sandbox_memory_mb: int = Field(default=512, ge=64, le=65_536, description="Address space per execution")
    sandbox_max_processes: int = Field(default=16, ge=1, le=1024)
    sandbox_wall_seconds: float = Field(default=10.0, gt=0, le=3600)
    sandbox_output_bytes: int = Field(default=1_048_576, ge=1024, le=64 * 1_048_576)
    sandbox_run_as: int | None = Field(
        default=65534,
        description="When the service runs as root, the uid (and gid) the sandbox runs as: the kernel does "
        "not apply the process limit to root",
    )
