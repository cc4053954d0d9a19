"""Scoring: originality checks bound to the frozen submission (manifest digest) and re-checks with a reason.

Revision ID: scoring_0007
Revises: scoring_0004
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "scoring_0007"
down_revision: str | None = "scoring_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Checks run before this revision read an operator-given path: they keep no digest.
    with op.batch_alter_table("originality_checks") as batch:
        batch.add_column(sa.Column("manifest_digest", sa.String(71), nullable=True))
        batch.add_column(sa.Column("recheck_of", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("originality_checks") as batch:
        batch.drop_column("reason")
        batch.drop_column("recheck_of")
        batch.drop_column("manifest_digest")
