"""The run's conditions: the model it asked for and the serving stack that answered.

Revision ID: gateway_0003
Revises: gateway_0002
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0003"
down_revision: str | None = "gateway_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("model_name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("serving_stack", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("serving_stack")
        batch.drop_column("model_name")
