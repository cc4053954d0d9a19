"""Arena: the operators' per-stage switch of the anonymous public mode (default off), and which
votes were cast anonymously (kept and counted apart from the registered voters').

Revision ID: scoring_0014
Revises: scoring_0013
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fmc_common.db import UtcDateTime

revision: str = "scoring_0014"
down_revision: str | None = "scoring_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "arena_settings",
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("stage_id", name=op.f("pk_arena_settings")),
    )
    with op.batch_alter_table("arena_votes") as batch:
        batch.add_column(sa.Column("anonymous", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("arena_votes") as batch:
        batch.drop_column("anonymous")
    op.drop_table("arena_settings")
