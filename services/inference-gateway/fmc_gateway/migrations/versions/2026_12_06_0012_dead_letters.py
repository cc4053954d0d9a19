"""The dead-letter tally of the operators' health view (`GET /v1/ops/health`, docs/operations.md).

Revision ID: gateway_0012
Revises: gateway_0011
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from fmc_common.messaging.tables import create_dead_letters_v1

revision: str = "gateway_0012"
down_revision: str | None = "gateway_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_dead_letters_v1()


def downgrade() -> None:
    op.drop_table("dead_letters")
