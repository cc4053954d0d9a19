"""Arena: the daily vote cap's counter per voter and Seoul day (filled from the votes counted so
far), operators' aliases of teams, and what a discarded vote's rule matched.

Revision ID: scoring_0008
Revises: scoring_0007
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fmc_common.db import UtcDateTime

revision: str = "scoring_0008"
down_revision: str | None = "scoring_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "arena_vote_counts",
        sa.Column("voter", sa.String(200), nullable=False),
        sa.Column("seoul_day", sa.String(10), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("voter", "seoul_day", name=op.f("pk_arena_vote_counts")),
    )
    op.execute(
        "INSERT INTO arena_vote_counts (voter, seoul_day, counted) "
        "SELECT voter, seoul_day, COUNT(*) FROM arena_votes WHERE counted GROUP BY voter, seoul_day"
    )
    op.create_table(
        "arena_team_aliases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("alias", sa.String(200), nullable=False),
        sa.Column("normalised", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.Column("added_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arena_team_aliases")),
        sa.UniqueConstraint("team_id", "normalised", name=op.f("uq_arena_team_aliases_team_id_normalised")),
    )
    op.create_index(op.f("ix_arena_team_aliases_team_id"), "arena_team_aliases", ["team_id"])
    with op.batch_alter_table("arena_votes") as batch:
        batch.add_column(sa.Column("discard_term_kind", sa.String(32), nullable=True))
        batch.add_column(sa.Column("discard_term", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("arena_votes") as batch:
        batch.drop_column("discard_term")
        batch.drop_column("discard_term_kind")
    op.drop_index(op.f("ix_arena_team_aliases_team_id"), table_name="arena_team_aliases")
    op.drop_table("arena_team_aliases")
    op.drop_table("arena_vote_counts")
