"""Initial gateway schema: platform tables.

Revision ID: gateway_0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

from fmc_common.messaging.tables import create_platform_tables_v1

revision: str = "gateway_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_platform_tables_v1()


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("inbox")
    op.drop_index("ix_outbox_unsent", table_name="outbox")
    op.drop_table("outbox")
