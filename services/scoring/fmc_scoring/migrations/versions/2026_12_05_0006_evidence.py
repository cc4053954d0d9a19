"""Scoring: frozen evidence and corrections (evidence cut-off, key errata, score amendments, vote
exclusions, the key revision a grade used).

Revision ID: scoring_0006
Revises: scoring_0005
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fmc_common.db import UtcDateTime

revision: str = "scoring_0006"
down_revision: str | None = "scoring_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stage_criteria") as batch:
        batch.add_column(sa.Column("evidence_cutoff", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("evidence_cutoff_source", sa.String(32), nullable=True))
    # Grades and suites from before errata existed used, and have, the key as created: revision 1.
    with op.batch_alter_table("suites") as batch:
        batch.add_column(sa.Column("key_revision", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("run_grades") as batch:
        batch.add_column(sa.Column("key_revision", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("arena_votes") as batch:
        batch.add_column(sa.Column("exclusion_id", sa.Uuid(), nullable=True))
    op.create_table(
        "suite_key_revisions",
        sa.Column("suite_id", sa.Uuid(), sa.ForeignKey("suites.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("revision", sa.Integer(), primary_key=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("item_ids", sa.JSON(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("keys_sha256", sa.String(64), nullable=False),
        sa.Column("published_by", sa.String(200), nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "expert_score_amendments",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "score_id", sa.Uuid(), sa.ForeignKey("expert_scores.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("evaluator", sa.String(200), nullable=False),
        sa.Column("technical_originality", sa.Float(), nullable=False),
        sa.Column("technological_capability", sa.Float(), nullable=False),
        sa.Column("readiness", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("amended_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_expert_score_amendments_score_id", "expert_score_amendments", ["score_id"])
    op.create_index("ix_expert_score_amendments_stage_id", "expert_score_amendments", ["stage_id"])
    op.create_table(
        "arena_vote_exclusions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("voter", sa.String(200), nullable=True),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("excluded", sa.Integer(), nullable=False),
        sa.Column("excluded_by", sa.String(200), nullable=False),
        sa.Column("excluded_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_arena_vote_exclusions_stage_id", "arena_vote_exclusions", ["stage_id"])


def downgrade() -> None:
    op.drop_index("ix_arena_vote_exclusions_stage_id", table_name="arena_vote_exclusions")
    op.drop_table("arena_vote_exclusions")
    op.drop_index("ix_expert_score_amendments_stage_id", table_name="expert_score_amendments")
    op.drop_index("ix_expert_score_amendments_score_id", table_name="expert_score_amendments")
    op.drop_table("expert_score_amendments")
    op.drop_table("suite_key_revisions")
    with op.batch_alter_table("arena_votes") as batch:
        batch.drop_column("exclusion_id")
    with op.batch_alter_table("run_grades") as batch:
        batch.drop_column("key_revision")
    with op.batch_alter_table("suites") as batch:
        batch.drop_column("key_revision")
    with op.batch_alter_table("stage_criteria") as batch:
        batch.drop_column("evidence_cutoff_source")
        batch.drop_column("evidence_cutoff")
