"""The serving convention of a submission's endpoint (docs/triton-contract.md); earlier ones keep ours.

Revision ID: registry_0003
Revises: registry_0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0003"
down_revision: str | None = "registry_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("convention", sa.String(32), nullable=False, server_default="fmc-text"))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("convention")
