"""Log-likelihood runs: the run's scoring, and each item's continuations (docs/triton-contract.md).

Revision ID: gateway_0008
Revises: gateway_0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0008"
down_revision: str | None = "gateway_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("scoring", sa.String(16), nullable=True))
    with op.batch_alter_table("run_items") as batch:
        batch.add_column(sa.Column("continuations", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("run_items") as batch:
        batch.drop_column("continuations")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("scoring")
