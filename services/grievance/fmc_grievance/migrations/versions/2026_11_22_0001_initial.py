"""Initial grievance schema: platform tables and participants.

Revision ID: grievance_0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fmc_common.db import UtcDateTime
from fmc_common.messaging.tables import create_platform_tables_v1

revision: str = "grievance_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_platform_tables_v1()
    op.create_table(
        "participants",
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("lead_organisation", sa.String(200), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.Column("correlation_id", sa.String(128), nullable=True),
        sa.PrimaryKeyConstraint("team_id", name="pk_participants"),
    )


def downgrade() -> None:
    op.drop_table("participants")
    op.drop_table("idempotency_keys")
    op.drop_table("inbox")
    op.drop_index("ix_outbox_unsent", table_name="outbox")
    op.drop_table("outbox")
