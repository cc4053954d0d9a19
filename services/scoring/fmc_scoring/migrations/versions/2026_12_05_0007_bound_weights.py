"""Scoring: originality checks bound to the frozen submission (manifest digest), re-checks with a reason,
and donors retired from the reference library.

Revision ID: scoring_0007
Revises: scoring_0006
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fmc_common.db import UtcDateTime

revision: str = "scoring_0007"
down_revision: str | None = "scoring_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Checks run before this revision read an operator-given path: they keep no digest.
    with op.batch_alter_table("originality_checks") as batch:
        batch.add_column(sa.Column("manifest_digest", sa.String(71), nullable=True))
        batch.add_column(sa.Column("recheck_of", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("reason", sa.Text(), nullable=True))
    with op.batch_alter_table("originality_donors") as batch:
        batch.add_column(sa.Column("retired_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("retired_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("retirement_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("originality_donors") as batch:
        batch.drop_column("retirement_reason")
        batch.drop_column("retired_by")
        batch.drop_column("retired_at")
    with op.batch_alter_table("originality_checks") as batch:
        batch.drop_column("reason")
        batch.drop_column("recheck_of")
        batch.drop_column("manifest_digest")
