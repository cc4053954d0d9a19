"""Chat items and chat templates: an item's messages (its prompt then empty) and a run's chat template.

Revision ID: gateway_0005
Revises: gateway_0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0005"
down_revision: str | None = "gateway_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("run_items") as batch:
        batch.add_column(sa.Column("messages", sa.JSON(), nullable=True))
        batch.alter_column("prompt", existing_type=sa.Text(), nullable=True)
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("chat_template", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("chat_template")
    # The previous schema cannot hold a chat item: its prompt becomes the messages as JSON text, so
    # no row is lost (runs on chat items should finish before a downgrade).
    op.execute("UPDATE run_items SET prompt = CAST(messages AS TEXT) WHERE prompt IS NULL")
    with op.batch_alter_table("run_items") as batch:
        batch.alter_column("prompt", existing_type=sa.Text(), nullable=False)
        batch.drop_column("messages")
