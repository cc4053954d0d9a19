"""Scoring: each evaluation keeps its stage's objection days, for StageResultsPublished.

Revision ID: scoring_0004
Revises: scoring_0003
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "scoring_0004"
down_revision: str | None = "scoring_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Evaluations started before this revision had the default window, which is what they keep.
    with op.batch_alter_table("evaluations") as batch:
        batch.add_column(sa.Column("objection_days", sa.Integer(), nullable=False, server_default="10"))


def downgrade() -> None:
    with op.batch_alter_table("evaluations") as batch:
        batch.drop_column("objection_days")
