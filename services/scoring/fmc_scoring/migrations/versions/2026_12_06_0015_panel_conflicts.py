"""Scoring: evaluators' own declarations of a conflict of interest (with a reason, and the score a
declaration withdrew), kept apart from the panel's operator-set list.

Revision ID: scoring_0015
Revises: scoring_0014
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "scoring_0015"
down_revision: str | None = "scoring_0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "panel_conflict_declarations",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("evaluator", sa.String(200), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "withdrawn_score_id",
            sa.Uuid(),
            sa.ForeignKey("expert_scores.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.UniqueConstraint("stage_id", "evaluator", "team_id"),
    )
    op.create_index("ix_panel_conflict_declarations_stage_id", "panel_conflict_declarations", ["stage_id"])


def downgrade() -> None:
    op.drop_index("ix_panel_conflict_declarations_stage_id", table_name="panel_conflict_declarations")
    op.drop_table("panel_conflict_declarations")
