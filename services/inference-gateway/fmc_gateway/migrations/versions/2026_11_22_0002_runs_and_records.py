"""Endpoints, runs, their items and chunks, one record per item, arena battles.

Revision ID: gateway_0002
Revises: gateway_0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fmc_common.db import UtcDateTime

revision: str = "gateway_0002"
down_revision: str | None = "gateway_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "endpoints",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("protocol", sa.String(8), nullable=False),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(50), nullable=False),
        sa.Column("gpu_pool", sa.String(8), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("submission_id", sa.Uuid(), nullable=True),
        sa.Column("registered_at", UtcDateTime(), nullable=False),
        sa.Column("last_checked_at", UtcDateTime(), nullable=True),
        sa.Column("last_check_ok", sa.Boolean(), nullable=True),
        sa.Column("last_check_reason", sa.Text(), nullable=True),
        sa.Column("server_version", sa.String(50), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_endpoints"),
        sa.UniqueConstraint(
            "url",
            "protocol",
            "model_name",
            "model_version",
            name="uq_endpoints_url_protocol_model_name_model_version",
        ),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("gpu_pool", sa.String(8), nullable=False),
        sa.Column("hardware_class", sa.String(100), nullable=False),
        sa.Column("suite_id", sa.String(200), nullable=False),
        sa.Column("suite_version", sa.String(50), nullable=False),
        sa.Column("suite_hash", sa.String(64), nullable=False),
        sa.Column("items_uri", sa.Text(), nullable=False),
        sa.Column("items_sha256", sa.String(64), nullable=True),
        sa.Column("decoding", sa.JSON(), nullable=False),
        sa.Column("limits", sa.JSON(), nullable=False),
        sa.Column("request_fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("failure_code", sa.String(64), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("errored", sa.Integer(), nullable=False),
        sa.Column("input_datatypes", sa.JSON(), nullable=True),
        sa.Column("batched", sa.Boolean(), nullable=False),
        sa.Column("server_version", sa.String(50), nullable=True),
        sa.Column("model_version", sa.String(50), nullable=True),
        sa.Column("responses_sha256", sa.String(64), nullable=True),
        sa.Column("requested_at", UtcDateTime(), nullable=False),
        sa.Column("accepted_at", UtcDateTime(), nullable=False),
        sa.Column("prepared_at", UtcDateTime(), nullable=True),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("last_progress_at", UtcDateTime(), nullable=False),
        sa.Column("progress_reported", sa.Integer(), nullable=False),
        sa.Column("progress_reported_at", UtcDateTime(), nullable=True),
        sa.Column("stuck_since", UtcDateTime(), nullable=True),
        sa.Column("prepare_owner", sa.String(100), nullable=True),
        sa.Column("prepare_until", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["endpoint_id"], ["endpoints.id"], name="fk_runs_endpoint_id_endpoints"),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_index("ix_runs_stage_id_suite_hash", "runs", ["stage_id", "suite_hash"])
    op.create_index("ix_runs_status", "runs", ["status"])
    op.create_table(
        "run_items",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("item_id", sa.String(200), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_run_items_run_id_runs"),
        sa.PrimaryKeyConstraint("run_id", "seq", name="pk_run_items"),
        sa.UniqueConstraint("run_id", "item_id", name="uq_run_items_run_id_item_id"),
    )
    op.create_table(
        "run_chunks",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("chunk_no", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("first_seq", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("lease_owner", sa.String(100), nullable=True),
        sa.Column("lease_until", UtcDateTime(), nullable=True),
        sa.Column("claims", sa.Integer(), nullable=False),
        sa.Column("done_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_run_chunks_run_id_runs"),
        sa.PrimaryKeyConstraint("run_id", "chunk_no", name="pk_run_chunks"),
    )
    op.create_index("ix_run_chunks_status", "run_chunks", ["status"])
    op.create_table(
        "item_records",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("item_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("server_version", sa.String(50), nullable=False),
        sa.Column("model_version", sa.String(50), nullable=False),
        sa.Column("replica", sa.String(100), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_item_records_run_id_runs"),
        sa.PrimaryKeyConstraint("run_id", "seq", name="pk_item_records"),
        sa.UniqueConstraint("run_id", "item_id", name="uq_item_records_run_id_item_id"),
    )
    op.create_table(
        "arena_battles",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("voter_id", sa.String(200), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("decoding", sa.JSON(), nullable=False),
        sa.Column("a_submission_id", sa.Uuid(), nullable=False),
        sa.Column("b_submission_id", sa.Uuid(), nullable=False),
        sa.Column("a_text", sa.Text(), nullable=False),
        sa.Column("b_text", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_arena_battles"),
    )
    op.create_index("ix_arena_battles_voter_id_created_at", "arena_battles", ["voter_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_arena_battles_voter_id_created_at", table_name="arena_battles")
    op.drop_table("arena_battles")
    op.drop_table("item_records")
    op.drop_index("ix_run_chunks_status", table_name="run_chunks")
    op.drop_table("run_chunks")
    op.drop_table("run_items")
    op.drop_index("ix_runs_status", table_name="runs")
    op.drop_index("ix_runs_stage_id_suite_hash", table_name="runs")
    op.drop_table("runs")
    op.drop_table("endpoints")
