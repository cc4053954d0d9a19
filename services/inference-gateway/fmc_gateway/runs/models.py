"""Runs, their items and chunks, and one record per item answered."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from fmc_common.db import StrEnumColumn, UtcDateTime
from fmc_common.events.inference import GpuPool, RunScoring
from fmc_gateway.base import Base


class RunStatus(StrEnum):
    PENDING = "pending"
    """Accepted; the readiness check and the items fetch have not succeeded yet."""
    RUNNING = "running"
    WAITING = "waiting"
    """Paused on something outside the gateway (``status_reason`` says what); resumes by itself."""
    COMPLETED = "completed"
    FAILED = "failed"


ACTIVE = (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.WAITING)


class FailureCode(StrEnum):
    """Why a run failed (``InferenceRunFailed.code``): each one something the team or the organisers fix."""

    UNFAIR_PARAMETERS = "unfair-parameters"
    ITEMS_INVALID = "items-invalid"
    WAIT_LIMIT = "wait-limit-exceeded"
    """WAITING (an endpoint not answering, an items source down) longer than the wait limit."""
    # The readiness check's own codes (``ReadinessCode``) for the two outcomes that fail a run.
    MODEL_NOT_READY = "model-not-ready"
    MODEL_CONTRACT_MISMATCH = "model-contract-mismatch"


class ChunkStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"


class RecordStatus(StrEnum):
    OK = "ok"
    ERROR = "error"


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_stage_id_suite_hash", "stage_id", "suite_hash"),
        Index("ix_runs_status", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    stage_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    submission_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    team_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("endpoints.id"))
    gpu_pool: Mapped[GpuPool] = mapped_column(StrEnumColumn(GpuPool, 8))
    hardware_class: Mapped[str] = mapped_column(String(100))
    suite_id: Mapped[str] = mapped_column(String(200))
    suite_version: Mapped[str] = mapped_column(String(50))
    suite_hash: Mapped[str] = mapped_column(String(64))
    items_uri: Mapped[str] = mapped_column(Text)
    items_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decoding: Mapped[dict[str, Any]] = mapped_column(JSON)
    limits: Mapped[dict[str, Any]] = mapped_column(JSON)
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[RunStatus] = mapped_column(StrEnumColumn(RunStatus, 16))
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    failure_code: Mapped[FailureCode | None] = mapped_column(StrEnumColumn(FailureCode, 64), nullable=True)
    total: Mapped[int] = mapped_column(Integer)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    errored: Mapped[int] = mapped_column(Integer, default=0)
    input_datatypes: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    batched: Mapped[bool] = mapped_column(Boolean, default=False)
    server_version: Mapped[str | None] = mapped_column(String(50), nullable=True)
    model_version: Mapped[str | None] = mapped_column(String(50), nullable=True)
    model_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """The model the run asked for (its endpoint's), kept on the run with its other conditions."""
    chat_template: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The chat template the request named (``RunEndpoint.chat_template``): every item of the run is
    rendered through it on a raw-text convention."""
    serving_stack: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """What served it, from the readiness check: server name and version, the model's backend or
    platform (``triton 2.51.0, backend python``); with the pool, hardware class, model version,
    decoding parameters and limits these are the run's conditions, compared across teams."""
    scoring: Mapped[RunScoring | None] = mapped_column(StrEnumColumn(RunScoring, 16), nullable=True)
    """``loglikelihood`` for a run whose items are contexts and continuations; null: ``generate``."""
    responses_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    efficiency: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """A ``RunEfficiency`` read off the records when the run completed (null before)."""
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    prepared_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_progress_at: Mapped[datetime] = mapped_column(UtcDateTime)
    progress_reported: Mapped[int] = mapped_column(Integer, default=0)
    progress_reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    stuck_since: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    prepare_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    prepare_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class RunItem(Base):
    """What the model is asked: the prompts of the run, in the order of the items document.

    An item is a ``prompt`` or chat ``messages`` (``[{"role", "content"}, ...]``), never both; in a
    log-likelihood run the ``prompt`` holds the item's context and ``continuations`` its choices."""

    __tablename__ = "run_items"
    __table_args__ = (UniqueConstraint("run_id", "item_id"),)

    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    item_id: Mapped[str] = mapped_column(String(200))
    prompt: Mapped[str | None] = mapped_column(Text, nullable=True)
    messages: Mapped[list[dict[str, str]] | None] = mapped_column(JSON, nullable=True)
    continuations: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)


class RunChunk(Base):
    """A slice of a run's items, leased by one replica at a time (``lease_until``)."""

    __tablename__ = "run_chunks"
    __table_args__ = (Index("ix_run_chunks_status", "status"),)

    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    chunk_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    first_seq: Mapped[int] = mapped_column(Integer)
    last_seq: Mapped[int] = mapped_column(Integer)
    status: Mapped[ChunkStatus] = mapped_column(StrEnumColumn(ChunkStatus, 16))
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    claims: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ItemRecord(Base):
    """What the model answered to one item: stored once (unique on run and item)."""

    __tablename__ = "item_records"
    __table_args__ = (UniqueConstraint("run_id", "item_id"),)

    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    item_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[RecordStatus] = mapped_column(StrEnumColumn(RecordStatus, 8))
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    completion_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    latency_ms: Mapped[float] = mapped_column(Float)
    ttft_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    """Time to the first piece of text; null when the answer was not streamed (unknown)."""
    tokens_per_second: Mapped[float | None] = mapped_column(Float, nullable=True)
    """Completion tokens per second of generation (``runs/efficiency.py``); null when not counted."""
    attempts: Mapped[int] = mapped_column(Integer)
    server_version: Mapped[str] = mapped_column(String(50))
    model_version: Mapped[str] = mapped_column(String(50))
    replica: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime)
