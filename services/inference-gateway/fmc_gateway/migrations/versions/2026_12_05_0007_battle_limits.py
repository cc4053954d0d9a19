"""One row per arena voter, locked while a battle is reserved: the per-voter limit holds on
PostgreSQL under concurrent requests (docs/operations.md, the arena).

Revision ID: gateway_0007
Revises: gateway_0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fmc_common.db import UtcDateTime

revision: str = "gateway_0007"
down_revision: str | None = "gateway_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "arena_voters",
        sa.Column("voter_id", sa.String(200), nullable=False),
        sa.Column("last_reserved_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("voter_id", name="pk_arena_voters"),
    )


def downgrade() -> None:
    op.drop_table("arena_voters")
