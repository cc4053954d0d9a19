"""Scoring: final means final (finality state, finalisations, reopenings), corrections named on result
versions, and a hash-chained audit trail.

The plain trail's entries are carried over into the chain in their order (their hashes computed
here), so nothing recorded before is lost.

Revision ID: scoring_0005
Revises: scoring_0004
Create Date: 2026-12-05
"""

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from fmc_common.audit.chain import GENESIS, ChainedFields
from fmc_common.db import UtcDateTime

revision: str = "scoring_0005"
down_revision: str | None = "scoring_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_SQLITE = [
    f"""CREATE TRIGGER scoring_audit_no_{verb.lower()} BEFORE {verb} ON scoring_audit
    BEGIN SELECT RAISE(ABORT, 'scoring_audit is append-only'); END"""
    for verb in ("UPDATE", "DELETE")
]
APPEND_ONLY_POSTGRES = [
    """CREATE FUNCTION scoring_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'scoring_audit is append-only'; END $$""",
    """CREATE TRIGGER scoring_audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON scoring_audit
    FOR EACH STATEMENT EXECUTE FUNCTION scoring_audit_append_only()""",
]
DROP_APPEND_ONLY_SQLITE = [f"DROP TRIGGER scoring_audit_no_{verb}" for verb in ("update", "delete")]
DROP_APPEND_ONLY_POSTGRES = [
    "DROP TRIGGER scoring_audit_append_only ON scoring_audit",
    "DROP FUNCTION scoring_audit_append_only()",
]

_CHANGE = ("at", "actor_subject", "actor_role", "action", "entity_type", "entity_id", "reason", "details")


def _change_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor_subject", sa.String(length=200), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("entity_type", sa.String(length=50), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
    ]


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _rows_of_audit() -> list[dict[str, Any]]:
    typed = sa.table(
        "scoring_audit",
        sa.column("seq", sa.BigInteger()),
        *(sa.column(c.name, c.type) for c in _change_columns()),
    )
    rows = op.get_bind().execute(sa.select(typed).order_by(typed.c.seq)).mappings().all()
    return [dict(r) for r in rows]


def _drop_audit() -> None:
    for statement in DROP_APPEND_ONLY_POSTGRES if _postgres() else DROP_APPEND_ONLY_SQLITE:
        op.execute(statement)
    op.drop_table("scoring_audit")


def _protect_audit() -> None:
    for statement in APPEND_ONLY_POSTGRES if _postgres() else APPEND_ONLY_SQLITE:
        op.execute(statement)


def upgrade() -> None:
    with op.batch_alter_table("stage_results") as batch:
        batch.add_column(sa.Column("corrects_version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("correction", sa.String(length=32), nullable=True))
    finality = op.create_table(
        "stage_finality",
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("finalized_at", UtcDateTime(), nullable=True),
        sa.Column("pending_since", UtcDateTime(), nullable=True),
        sa.Column("reopened_at", UtcDateTime(), nullable=True),
        sa.Column("reopening_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("stage_id", name=op.f("pk_stage_finality")),
    )
    finalizations = op.create_table(
        "stage_finalizations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("requested_at", UtcDateTime(), nullable=False),
        sa.Column("finalized_at", UtcDateTime(), nullable=False),
        sa.Column("reopening_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_finalizations")),
    )
    op.create_index(op.f("ix_stage_finalizations_stage_id"), "stage_finalizations", ["stage_id"])
    op.create_table(
        "stage_reopenings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reopened_by", sa.String(length=200), nullable=False),
        sa.Column("reopened_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_reopenings")),
    )
    op.create_index(op.f("ix_stage_reopenings_stage_id"), "stage_reopenings", ["stage_id"])
    _backfill_finality(finality, finalizations)
    _chain_the_audit_trail()


def _backfill_finality(finality: sa.Table, finalizations: sa.Table) -> None:
    """Stages finalised before this revision are final, with their finalisation on record."""
    results = sa.table(
        "stage_results",
        sa.column("stage_id", sa.Uuid()),
        sa.column("version", sa.Integer()),
        sa.column("finalized_at", UtcDateTime()),
    )
    found = op.get_bind().execute(
        sa.select(results.c.stage_id, results.c.version, results.c.finalized_at).where(
            results.c.finalized_at.is_not(None)
        )
    )
    latest: dict[Any, Any] = {}
    for row in found:
        if row.stage_id not in latest or row.version > latest[row.stage_id].version:
            latest[row.stage_id] = row
    if not latest:
        return
    op.bulk_insert(
        finality,
        [
            {"stage_id": r.stage_id, "final": True, "version": r.version, "finalized_at": r.finalized_at}
            for r in latest.values()
        ],
    )
    op.bulk_insert(
        finalizations,
        [
            {
                "id": uuid.uuid4(),
                "stage_id": r.stage_id,
                "version": r.version,
                "requested_at": r.finalized_at,
                "finalized_at": r.finalized_at,
            }
            for r in latest.values()
        ],
    )


def _chain_the_audit_trail() -> None:
    rows = _rows_of_audit()
    _drop_audit()
    entries = op.create_table(
        "scoring_audit",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        *_change_columns(),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_scoring_audit")),
    )
    op.create_index(op.f("ix_scoring_audit_entity_id"), "scoring_audit", ["entity_id"])
    op.create_index(op.f("ix_scoring_audit_team_id"), "scoring_audit", ["team_id"])
    head = op.create_table(
        "scoring_audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_audit_head")),
    )
    chained, prev = [], GENESIS
    for seq, row in enumerate(rows, start=1):
        change = {name: row[name] for name in _CHANGE}
        digest = ChainedFields(seq=seq, team_id=None, prev_hash=prev, **change).hash()
        chained.append({**change, "seq": seq, "team_id": None, "prev_hash": prev, "hash": digest})
        prev = digest
    if chained:
        op.bulk_insert(entries, chained)
    op.bulk_insert(head, [{"id": 1, "seq": len(chained), "hash": prev}])
    # The database itself refuses to rewrite or remove an entry; the chain shows it if someone with
    # the rights to lift that rule does it anyway.
    _protect_audit()


def downgrade() -> None:
    rows = _rows_of_audit()
    _drop_audit()
    op.drop_table("scoring_audit_head")
    plain = op.create_table(
        "scoring_audit",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        *_change_columns(),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_scoring_audit")),
    )
    op.create_index(op.f("ix_scoring_audit_entity_id"), "scoring_audit", ["entity_id"])
    op.create_index(op.f("ix_scoring_audit_entity_type"), "scoring_audit", ["entity_type"])
    if rows:
        op.bulk_insert(plain, rows)
        if _postgres():
            op.execute(
                "SELECT setval(pg_get_serial_sequence('scoring_audit', 'seq'), (SELECT max(seq) FROM scoring_audit))"
            )
    _protect_audit()
    op.drop_index(op.f("ix_stage_reopenings_stage_id"), table_name="stage_reopenings")
    op.drop_table("stage_reopenings")
    op.drop_index(op.f("ix_stage_finalizations_stage_id"), table_name="stage_finalizations")
    op.drop_table("stage_finalizations")
    op.drop_table("stage_finality")
    with op.batch_alter_table("stage_results") as batch:
        batch.drop_column("correction")
        batch.drop_column("corrects_version")
