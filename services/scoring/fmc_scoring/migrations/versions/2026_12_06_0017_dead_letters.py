"""The dead-letter tally of the operators' health view (`GET /v1/ops/health`, docs/operations.md).

Revision ID: scoring_0017
Revises: scoring_0016
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from fmc_common.messaging.tables import create_dead_letters_v1

revision: str = "scoring_0017"
down_revision: str | None = "scoring_0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_dead_letters_v1()


def downgrade() -> None:
    op.drop_table("dead_letters")
