"""Scoring: an item's grade may be a share of credit in [0, 1] (judged answers, executed code);
right-or-wrong grades keep a null score (their credit is 1 or 0).

Revision ID: scoring_0010
Revises: scoring_0009
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "scoring_0010"
down_revision: str | None = "scoring_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("item_grades") as batch:
        batch.add_column(sa.Column("score", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("item_grades") as batch:
        batch.drop_column("score")
