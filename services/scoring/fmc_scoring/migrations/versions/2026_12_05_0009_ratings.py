"""Scoring: the criteria state the counted arena votes each model needs before a result with a
user part can be proposed (stages set before this revision get the default, 30).

Revision ID: scoring_0009
Revises: scoring_0008
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "scoring_0009"
down_revision: str | None = "scoring_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stage_criteria") as batch:
        batch.add_column(sa.Column("arena_min_votes", sa.Integer(), nullable=False, server_default="30"))


def downgrade() -> None:
    with op.batch_alter_table("stage_criteria") as batch:
        batch.drop_column("arena_min_votes")
