"""Grievance rounds: a team is notified again when its outcome is reversed or its stage reopened, and
a decision's grievance phase closes once per round.

Revision ID: grievance_0003
Revises: grievance_0002
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "grievance_0003"
down_revision: str | None = "grievance_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_UNIQUE = "uq_notifications_decision_kind_decision_id_team_id"
NEW_UNIQUE = "uq_notifications_decision_kind_decision_id_team_id_round"


def upgrade() -> None:
    # Everything recorded before this revision is the first round.
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("round", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("result_version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("supersedes_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("reopening_id", sa.Uuid(), nullable=True))
        batch.drop_constraint(OLD_UNIQUE, type_="unique")
        batch.create_unique_constraint(NEW_UNIQUE, ["decision_kind", "decision_id", "team_id", "round"])
        batch.create_foreign_key(
            "fk_notifications_supersedes_id_notifications", "notifications", ["supersedes_id"], ["id"]
        )
        batch.create_index("ix_notifications_reopening_id", ["reopening_id"])
    with op.batch_alter_table("decision_closings") as batch:
        batch.add_column(sa.Column("round", sa.Integer(), nullable=False, server_default="1"))
        batch.drop_constraint("pk_decision_closings", type_="primary")
        batch.create_primary_key("pk_decision_closings", ["decision_kind", "decision_id", "round"])


def downgrade() -> None:
    # Only the first round of each decision fits the earlier tables: a decision's later closings go,
    # and a team notified more than once (a later round) makes the old unique constraint fail.
    op.execute("DELETE FROM decision_closings WHERE round > 1")
    with op.batch_alter_table("decision_closings") as batch:
        batch.drop_constraint("pk_decision_closings", type_="primary")
        batch.create_primary_key("pk_decision_closings", ["decision_kind", "decision_id"])
        batch.drop_column("round")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_index("ix_notifications_reopening_id")
        batch.drop_constraint("fk_notifications_supersedes_id_notifications", type_="foreignkey")
        batch.drop_constraint(NEW_UNIQUE, type_="unique")
        batch.create_unique_constraint(OLD_UNIQUE, ["decision_kind", "decision_id", "team_id"])
        batch.drop_column("reopening_id")
        batch.drop_column("supersedes_id")
        batch.drop_column("result_version")
        batch.drop_column("round")
