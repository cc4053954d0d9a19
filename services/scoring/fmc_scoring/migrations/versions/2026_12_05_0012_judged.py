"""Scoring: judged suites: a suite's judge (versioned), the judge runs and every judgement.

Revision ID: scoring_0012
Revises: scoring_0011
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "scoring_0012"
down_revision: str | None = "scoring_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "suite_judges",
        sa.Column("suite_id", sa.Uuid(), sa.ForeignKey("suites.id", ondelete="CASCADE"), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("endpoint", sa.JSON(), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("template_version", sa.String(50), nullable=False),
        sa.Column("rubric", sa.Text(), nullable=False),
        sa.Column("max_tokens", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("suite_id", "revision"),
    )
    op.create_table(
        "judge_runs",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "team_run_id", sa.Uuid(), sa.ForeignKey("planned_runs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("suite_id", sa.Uuid(), nullable=False),
        sa.Column("judge_revision", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("items_sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_judge_runs_team_run_id", "judge_runs", ["team_run_id"])
    op.create_table(
        "judgements",
        sa.Column(
            "team_run_id", sa.Uuid(), sa.ForeignKey("planned_runs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("item_id", sa.String(200), nullable=False),
        sa.Column("position", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("judge_run_id", sa.Uuid(), nullable=False),
        sa.Column("raw_output", sa.Text(), nullable=True),
        sa.Column("parsed", sa.Boolean(), nullable=False),
        sa.Column("rating", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("team_run_id", "item_id", "position", "attempt"),
    )


def downgrade() -> None:
    op.drop_table("judgements")
    op.drop_index("ix_judge_runs_team_run_id", table_name="judge_runs")
    op.drop_table("judge_runs")
    op.drop_table("suite_judges")
