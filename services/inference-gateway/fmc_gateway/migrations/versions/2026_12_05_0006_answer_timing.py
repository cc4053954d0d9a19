"""Answer timing: time to first token and tokens per second per record, the efficiency of a run.

Existing records keep them null (unknown: they were not measured), as do runs completed before.

Revision ID: gateway_0006
Revises: gateway_0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0006"
down_revision: str | None = "gateway_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("item_records") as batch:
        batch.add_column(sa.Column("ttft_ms", sa.Float(), nullable=True))
        batch.add_column(sa.Column("tokens_per_second", sa.Float(), nullable=True))
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("efficiency", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("efficiency")
    with op.batch_alter_table("item_records") as batch:
        batch.drop_column("tokens_per_second")
        batch.drop_column("ttft_ms")
