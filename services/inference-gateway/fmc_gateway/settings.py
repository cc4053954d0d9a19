"""Gateway settings: environment variables prefixed FMC_GATEWAY_ (broker: FMC_KAFKA_, auth: FMC_AUTH_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from fmc_common.events.inference import GpuPool
from fmc_common.settings import ServiceSettings, WithInfrastructure

DEFAULT_HARDWARE = {GpuPool.H100: "NVIDIA H100 80GB", GpuPool.B200: "NVIDIA B200 192GB"}


class GatewaySettings(ServiceSettings, WithInfrastructure):
    model_config = SettingsConfigDict(env_prefix="FMC_GATEWAY_", extra="ignore")

    service_name: str = "inference-gateway"
    database_url: str = "sqlite+aiosqlite:///var/inference-gateway.db"
    http_port: int = 8002
    grpc_port: int = 50062
    triton_url: str = Field(default="127.0.0.1:8001", description="host:port of Triton's gRPC endpoint")
    triton_timeout_seconds: float = Field(default=5.0, gt=0)
    # Triton servers (fmc_gateway/triton/hosts.py): the gateway connects to no other address.
    triton_allowed_hosts: list[str] = Field(
        default=[],
        description="host:port of every Triton server endpoints may name (besides triton_url), as JSON, e.g. "
        '["triton-h100:8001", "triton-h100:8000", "triton-b200:8001", "triton-b200:8000"]; exact match.',
    )
    # Team models on the pools' Triton servers (fmc_gateway/triton/loading.py, pods.py).
    triton_model_control: Literal["none", "explicit"] = Field(
        default="none",
        description="explicit: Triton runs with --model-control-mode=explicit and the gateway loads a "
        "submission's model before its runs and unloads it after; none: Triton loads its models itself",
    )
    triton_model_load_timeout_seconds: float = Field(
        default=600.0, gt=0, description="How long one pod may take to load (or unload) a model"
    )
    triton_model_idle_seconds: float = Field(
        default=300.0, ge=0, description="A model with no run in progress this long is unloaded"
    )
    triton_model_sweep_seconds: float = Field(
        default=15.0, gt=0, description="How often loaded models are counted (unloaded, or reloaded on pods)"
    )
    triton_pods: dict[str, list[str]] = Field(
        default={},
        description='Pods behind a Triton address, as JSON: {"triton-h100:8001": '
        '["triton-h100-0.triton-h100:8001", ...]}: requests are balanced across them, models loaded on each',
    )
    triton_resolve_pods: bool = Field(
        default=False,
        description="Resolve each Triton address by DNS (a headless Service) to its pods: one channel over "
        "every pod, requests in round robin, models loaded on each",
    )
    triton_resolve_interval_seconds: float = Field(
        default=30.0, gt=0, description="How often the pods behind a Triton address are resolved again"
    )

    # Pools and endpoints: requests in flight per replica.
    pool_capacity: dict[GpuPool, int] = Field(
        default={GpuPool.H100: 16, GpuPool.B200: 16},
        description='Requests in flight per GPU pool, e.g. {"H100": 16, "B200": 32}.',
    )
    pool_hardware: dict[GpuPool, str] = Field(
        default=DEFAULT_HARDWARE, description="Hardware class recorded on every run of the pool."
    )
    endpoint_capacity: int = Field(default=8, ge=1, le=1024, description="Requests in flight per endpoint.")

    # Runs: chunks, leases, records, progress.
    intake_enabled: bool = Field(
        default=True,
        description="Consume InferenceRunRequested (scoring) and SubmissionRegistered (registry); "
        "off for replicas that only answer chunks or arena prompts.",
    )
    runs_enabled: bool = Field(default=True, description="Claim and answer chunks of runs on this replica.")
    chunk_size: int = Field(
        default=200,
        ge=1,
        le=10_000,
        description="Items per chunk of a run, at least; a larger run gets larger chunks "
        "(about a sixteenth of its items each, up to chunk_size_max).",
    )
    chunk_size_max: int = Field(
        default=1000,
        ge=1,
        le=10_000,
        description="Items per chunk at most (a chunk_size above it wins): larger chunks cost fewer "
        "claims and chunk bookkeeping per item; a run keeps about sixteen chunks to share between replicas.",
    )
    chunks_in_hand_per_run: int = Field(default=3, ge=1, le=64)
    chunk_lease_seconds: float = Field(default=30.0, gt=0)
    claim_interval_seconds: float = Field(
        default=0.5,
        gt=0,
        description="Poll for chunks and runs to prepare (a finished chunk wakes it at once).",
    )
    record_flush_items: int = Field(
        default=500,
        ge=1,
        description="Records stored in one transaction at most (record_flush_seconds bounds the wait).",
    )
    record_flush_seconds: float = Field(
        default=0.25,
        gt=0,
        description="A record waits this long at most before its batch is stored (a finished chunk is "
        "stored at once); a crash loses at most this stretch of answers, which are answered again.",
    )
    progress_every_items: int = Field(default=500, ge=1)
    progress_every_seconds: float = Field(default=10.0, gt=0)
    stuck_after_seconds: float = Field(default=600.0, gt=0)
    watchdog_interval_seconds: float = Field(default=5.0, gt=0)
    wait_limit_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="A run waiting (endpoint not answering, items source down) this long without "
        "storing a record fails with code wait-limit-exceeded and what it waited on.",
    )
    readiness_timeout_seconds: float = Field(default=10.0, gt=0)
    readiness_retry_seconds: float = Field(default=5.0, gt=0)

    # Retries and the circuit breaker, per endpoint.
    retry_base_seconds: float = Field(default=0.2, gt=0)
    retry_max_seconds: float = Field(default=10.0, gt=0)
    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_reset_seconds: float = Field(default=5.0, gt=0)

    # Items sources (fmc_gateway/runs/sources.py): nothing is fetched from anywhere else.
    items_allowed_urls: list[str] = Field(
        default=[],
        description="Bases a run's items may be fetched from over HTTP(S), as JSON, e.g. "
        '["http://scoring:8003/v1/runs/"]: same scheme, host and port, path below. None: no HTTP source.',
    )
    items_audience: str = Field(
        default="scoring",
        description="Scoring's service name: the audience of the service token sent when fetching items.",
    )
    items_directory: Path | None = Field(
        default=None, description="File references are allowed only below this directory (none: refused)."
    )
    items_max_bytes: int = Field(default=256 * 1024 * 1024, ge=1)

    # Arena.
    arena_voter_limit: int = Field(default=30, ge=1, description="Battles per voter per window.")
    arena_window_seconds: float = Field(default=3600.0, gt=0)
    arena_timeout_seconds: float = Field(default=60.0, gt=0)
