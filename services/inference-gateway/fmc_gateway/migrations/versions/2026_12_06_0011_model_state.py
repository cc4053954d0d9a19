"""Explicit model control: whether the gateway keeps an endpoint's model loaded, and since when.

Revision ID: gateway_0011
Revises: gateway_0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fmc_common.db import UtcDateTime

revision: str = "gateway_0011"
down_revision: str | None = "gateway_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("endpoints") as batch:
        batch.add_column(sa.Column("model_state", sa.String(16), nullable=True))
        batch.add_column(sa.Column("model_state_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("endpoints") as batch:
        batch.drop_column("model_state_at")
        batch.drop_column("model_state")
