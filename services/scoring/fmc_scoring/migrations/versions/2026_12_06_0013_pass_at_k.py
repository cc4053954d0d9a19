"""Scoring: pass@k of executed code over several samples per item: the samples and k a stage's
criteria ask for, the extra runs (one per sample beyond the first, each with its own seed) and every
sample's response and outcome per item (grades recomputed from them).

Revision ID: scoring_0013
Revises: scoring_0012
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "scoring_0013"
down_revision: str | None = "scoring_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stage_criteria_suites") as batch:
        batch.add_column(sa.Column("samples", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("pass_k", sa.Integer(), nullable=True))
    op.create_table(
        "sample_runs",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "team_run_id", sa.Uuid(), sa.ForeignKey("planned_runs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("sample", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("responses_sha256", sa.String(64), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.UniqueConstraint("team_run_id", "sample"),
    )
    op.create_index("ix_sample_runs_team_run_id", "sample_runs", ["team_run_id"])
    op.create_table(
        "item_samples",
        sa.Column("run_id", sa.Uuid(), sa.ForeignKey("planned_runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("item_id", sa.String(200), nullable=False),
        sa.Column("sample", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "item_id", "sample"),
    )


def downgrade() -> None:
    op.drop_table("item_samples")
    op.drop_index("ix_sample_runs_team_run_id", table_name="sample_runs")
    op.drop_table("sample_runs")
    with op.batch_alter_table("stage_criteria_suites") as batch:
        batch.drop_column("pass_k")
        batch.drop_column("samples")
