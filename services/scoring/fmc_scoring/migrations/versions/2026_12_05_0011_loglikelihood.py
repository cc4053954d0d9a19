"""Scoring: a stage may score a multiple-choice suite by log-likelihood, with a normalisation
(docs/scoring.md); null columns are the generated-answer scoring of the rows before.

Revision ID: scoring_0011
Revises: scoring_0010
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "scoring_0011"
down_revision: str | None = "scoring_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stage_criteria_suites") as batch:
        batch.add_column(sa.Column("scoring", sa.String(16), nullable=True))
        batch.add_column(sa.Column("normalisation", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stage_criteria_suites") as batch:
        batch.drop_column("normalisation")
        batch.drop_column("scoring")
