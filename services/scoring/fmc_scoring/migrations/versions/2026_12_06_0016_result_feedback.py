"""Scoring: written feedback per team on a result version (operators write it; the team reads it
once the version is published), each writing a new revision.

Revision ID: scoring_0016
Revises: scoring_0015
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fmc_common.db import UtcDateTime

revision: str = "scoring_0016"
down_revision: str | None = "scoring_0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "result_feedback",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "result_id", sa.Uuid(), sa.ForeignKey("stage_results.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("written_by", sa.String(200), nullable=False),
        sa.Column("written_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("result_id", "team_id", "revision"),
    )
    op.create_index("ix_result_feedback_result_id", "result_feedback", ["result_id"])
    op.create_index("ix_result_feedback_stage_id", "result_feedback", ["stage_id"])


def downgrade() -> None:
    op.drop_index("ix_result_feedback_stage_id", table_name="result_feedback")
    op.drop_index("ix_result_feedback_result_id", table_name="result_feedback")
    op.drop_table("result_feedback")
