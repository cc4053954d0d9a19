"""Originality: the reference library of donor models (fingerprints only) and checks with reports.

Revision ID: scoring_0002
Revises: scoring_0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fmc_common.db import UtcDateTime

revision: str = "scoring_0002"
down_revision: str | None = "scoring_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "originality_donors",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("revision", sa.String(200), nullable=False),
        sa.Column("source", sa.String(1000), nullable=False),
        sa.Column("tensor_count", sa.Integer(), nullable=False),
        sa.Column("parameter_count", sa.BigInteger(), nullable=False),
        sa.Column("spaces", sa.String(4000), nullable=False),
        sa.Column("config_sha256", sa.String(64), nullable=True),
        sa.Column("tokenizer_sha256", sa.String(64), nullable=True),
        sa.Column("registered_by", sa.String(200), nullable=False),
        sa.Column("registered_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_originality_donors"),
        sa.UniqueConstraint("name", "revision", name="uq_originality_donors_name_revision"),
    )
    op.create_table(
        "originality_donor_tensors",
        sa.Column("donor_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("module", sa.String(200), nullable=False),
        sa.Column("dtype", sa.String(16), nullable=False),
        sa.Column("shape", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("canonical", sa.JSON(), nullable=False),
        sa.Column("hidden_axis", sa.Integer(), nullable=True),
        sa.Column("statistics", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["donor_id"],
            ["originality_donors.id"],
            name="fk_originality_donor_tensors_donor_id_originality_donors",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("donor_id", "name", name="pk_originality_donor_tensors"),
    )
    op.create_index("ix_originality_donor_tensors_sha256", "originality_donor_tensors", ["sha256"])
    op.create_table(
        "originality_checks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=True),
        sa.Column("weights_path", sa.String(1000), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("verdict", sa.String(32), nullable=False),
        sa.Column("summary", sa.String(2000), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_originality_checks"),
    )
    op.create_index("ix_originality_checks_stage_id", "originality_checks", ["stage_id"])
    op.create_index("ix_originality_checks_team_id", "originality_checks", ["team_id"])


def downgrade() -> None:
    op.drop_index("ix_originality_checks_team_id", table_name="originality_checks")
    op.drop_index("ix_originality_checks_stage_id", table_name="originality_checks")
    op.drop_table("originality_checks")
    op.drop_index("ix_originality_donor_tensors_sha256", table_name="originality_donor_tensors")
    op.drop_table("originality_donor_tensors")
    op.drop_table("originality_donors")
