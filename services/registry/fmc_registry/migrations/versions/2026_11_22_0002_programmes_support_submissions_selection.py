"""Programmes and stages, organisations and roles, team lifecycle columns and members, support,
submissions and statements, additional selection, and the append-only audit trail.

Revision ID: registry_0002
Revises: registry_0001
Create Date: 2026-11-22
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fmc_common.db import UtcDateTime
from fmc_common.messaging.tables import SEQUENCE_TYPE

revision: str = "registry_0002"
down_revision: str | None = "registry_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column[uuid.UUID]:
    return sa.Column("id", sa.Uuid(), nullable=False)


def _fk(name: str, table: str, target: str, *, nullable: bool = False) -> sa.Column[uuid.UUID]:
    return sa.Column(
        name, sa.Uuid(), sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{name}_{target}"), nullable=nullable
    )


def upgrade() -> None:
    _organisations_and_programmes()
    _teams()
    _support()
    _submissions()
    _selection()
    _audit()


def _organisations_and_programmes() -> None:
    op.create_table(
        "organisations",
        _id(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_organisations"),
        sa.UniqueConstraint("name", name="uq_organisations_name"),
    )
    op.create_table(
        "programmes",
        _id(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("budget_won", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_programmes"),
        sa.UniqueConstraint("name", name="uq_programmes_name"),
    )
    op.create_table(
        "organisation_roles",
        _fk("programme_id", "organisation_roles", "programmes"),
        _fk("organisation_id", "organisation_roles", "organisations"),
        sa.Column("role", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("programme_id", "organisation_id", "role", name="pk_organisation_roles"),
    )
    op.create_table(
        "stages",
        _id(),
        _fk("programme_id", "stages", "programmes"),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("planned_advancing", sa.Integer(), nullable=False),
        sa.Column("evaluation_starts_at", UtcDateTime(), nullable=False),
        sa.Column("evaluation_ends_at", UtcDateTime(), nullable=False),
        sa.Column("notification_at", UtcDateTime(), nullable=False),
        sa.Column("objection_days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_changed_at", UtcDateTime(), nullable=False),
        sa.Column("evaluation_started_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_stages"),
        sa.UniqueConstraint("programme_id", "number", name="uq_stages_programme_id_number"),
    )
    op.create_index("ix_stages_programme_id", "stages", ["programme_id"])


def _teams() -> None:
    with op.batch_alter_table("teams") as batch:
        batch.add_column(sa.Column("programme_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("lead_organisation_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("stage_number", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("elimination_reason", sa.String(32), nullable=True))
        batch.add_column(sa.Column("applicant_rank", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("preliminary_review", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(
            sa.Column("talent_support_applied", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("status_changed_at", UtcDateTime(), nullable=True))
        batch.create_foreign_key("fk_teams_programme_id_programmes", "programmes", ["programme_id"], ["id"])
        batch.create_foreign_key(
            "fk_teams_lead_organisation_id_organisations", "organisations", ["lead_organisation_id"], ["id"]
        )
        batch.create_index("ix_teams_programme_id", ["programme_id"])
    op.create_table(
        "team_members",
        _fk("team_id", "team_members", "teams"),
        _fk("organisation_id", "team_members", "organisations"),
        sa.Column("role", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "organisation_id", name="pk_team_members"),
    )


def _support() -> None:
    op.create_table(
        "support_pools",
        _id(),
        _fk("programme_id", "support_pools", "programmes"),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("amount_won", sa.BigInteger(), nullable=False),
        sa.Column("per_team_cap_won", sa.BigInteger(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_support_pools"),
        sa.UniqueConstraint("programme_id", "kind", name="uq_support_pools_programme_id_kind"),
    )
    op.create_index("ix_support_pools_programme_id", "support_pools", ["programme_id"])
    op.create_table(
        "support_allocations",
        _id(),
        _fk("pool_id", "support_allocations", "support_pools"),
        _fk("team_id", "support_allocations", "teams"),
        sa.Column("amount_won", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.String(500), nullable=False),
        sa.Column("allocated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_support_allocations"),
    )
    op.create_index("ix_support_allocations_pool_id", "support_allocations", ["pool_id"])
    op.create_index("ix_support_allocations_team_id", "support_allocations", ["team_id"])
    op.create_table(
        "gpu_packages",
        _id(),
        _fk("programme_id", "gpu_packages", "programmes"),
        sa.Column("gpu_model", sa.String(8), nullable=False),
        sa.Column("gpu_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_gpu_packages"),
        sa.UniqueConstraint("programme_id", "gpu_model", name="uq_gpu_packages_programme_id_gpu_model"),
    )
    op.create_index("ix_gpu_packages_programme_id", "gpu_packages", ["programme_id"])
    op.create_table(
        "gpu_contracts",
        _id(),
        _fk("programme_id", "gpu_contracts", "programmes"),
        _fk("supplier_organisation_id", "gpu_contracts", "organisations"),
        sa.Column("gpu_model", sa.String(8), nullable=False),
        sa.Column("rental_starts_at", UtcDateTime(), nullable=False),
        sa.Column("rental_ends_at", UtcDateTime(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_gpu_contracts"),
    )
    op.create_index("ix_gpu_contracts_programme_id", "gpu_contracts", ["programme_id"])
    op.create_index(
        "ix_gpu_contracts_supplier_organisation_id", "gpu_contracts", ["supplier_organisation_id"]
    )
    op.create_table(
        "gpu_contract_teams",
        sa.Column(
            "contract_id",
            sa.Uuid(),
            sa.ForeignKey("gpu_contracts.id", name="fk_gpu_contract_teams_contract_id_gpu_contracts"),
            nullable=False,
        ),
        _fk("team_id", "gpu_contract_teams", "teams"),
        sa.PrimaryKeyConstraint("contract_id", "team_id", name="pk_gpu_contract_teams"),
    )
    op.create_table(
        "gpu_allocations",
        _id(),
        _fk("team_id", "gpu_allocations", "teams"),
        _fk("package_id", "gpu_allocations", "gpu_packages"),
        sa.Column("period_starts_at", UtcDateTime(), nullable=False),
        sa.Column("period_ends_at", UtcDateTime(), nullable=False),
        sa.Column("allocated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_gpu_allocations"),
    )
    op.create_index("ix_gpu_allocations_team_id", "gpu_allocations", ["team_id"])


def _submissions() -> None:
    op.create_table(
        "submissions",
        _id(),
        _fk("stage_id", "submissions", "stages"),
        _fk("team_id", "submissions", "teams"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("endpoint_url", sa.String(500), nullable=False),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(50), nullable=False),
        sa.Column("protocol", sa.String(8), nullable=False),
        sa.Column("gpu_pool", sa.String(8), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column("manifest_digest", sa.String(71), nullable=False),
        sa.Column("model_card", sa.JSON(), nullable=False),
        sa.Column("registered_at", UtcDateTime(), nullable=False),
        sa.Column("frozen_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_submissions"),
        sa.UniqueConstraint("stage_id", "team_id", "version", name="uq_submissions_stage_id_team_id_version"),
    )
    op.create_index("ix_submissions_stage_id", "submissions", ["stage_id"])
    op.create_index("ix_submissions_team_id", "submissions", ["team_id"])
    op.create_table(
        "statements",
        _id(),
        _fk("stage_id", "statements", "stages"),
        _fk("team_id", "statements", "teams"),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("submitted_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_statements"),
    )
    op.create_index("ix_statements_stage_id", "statements", ["stage_id"])
    op.create_index("ix_statements_team_id", "statements", ["team_id"])


def _selection() -> None:
    op.create_table(
        "selection_calls",
        _id(),
        _fk("programme_id", "selection_calls", "programmes"),
        _fk("stage_id", "selection_calls", "stages"),
        sa.Column("vacancies", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_selection_calls"),
        sa.UniqueConstraint("stage_id", name="uq_selection_calls_stage_id"),
    )
    op.create_index("ix_selection_calls_programme_id", "selection_calls", ["programme_id"])
    for table in ("selection_eligibility", "selection_applications"):
        extra = (
            [
                sa.Column("basis", sa.String(32), nullable=False),
                sa.Column("applied_at", UtcDateTime(), nullable=False),
                sa.Column("selected", sa.Boolean(), nullable=False),
            ]
            if table == "selection_applications"
            else [sa.Column("basis", sa.String(32), nullable=False)]
        )
        op.create_table(
            table,
            _fk("call_id", table, "selection_calls"),
            _fk("team_id", table, "teams"),
            *extra,
            sa.PrimaryKeyConstraint("call_id", "team_id", name=f"pk_{table}"),
        )


APPEND_ONLY_SQLITE = [
    f"""CREATE TRIGGER audit_entries_no_{verb.lower()} BEFORE {verb} ON audit_entries
    BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END"""
    for verb in ("UPDATE", "DELETE")
]
APPEND_ONLY_POSTGRES = [
    """CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_entries is append-only'; END $$""",
    """CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()""",
]


def _audit() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("seq", SEQUENCE_TYPE, primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor_subject", sa.String(200), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("entity_type", sa.String(50), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_entries"),
    )
    op.create_index("ix_audit_entries_entity_type", "audit_entries", ["entity_type"])
    op.create_index("ix_audit_entries_entity_id", "audit_entries", ["entity_id"])
    # Who changed what and why must outlive any later mistake or cover-up: the database itself
    # refuses to rewrite or remove an entry.
    statements = APPEND_ONLY_POSTGRES if op.get_bind().dialect.name == "postgresql" else APPEND_ONLY_SQLITE
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION audit_entries_append_only()")
    op.drop_table("audit_entries")
    for table in (
        "selection_applications",
        "selection_eligibility",
        "selection_calls",
        "statements",
        "submissions",
        "gpu_allocations",
        "gpu_contract_teams",
        "gpu_contracts",
        "gpu_packages",
        "support_allocations",
        "support_pools",
        "team_members",
    ):
        op.drop_table(table)
    with op.batch_alter_table("teams") as batch:
        batch.drop_index("ix_teams_programme_id")
        batch.drop_constraint("fk_teams_lead_organisation_id_organisations", type_="foreignkey")
        batch.drop_constraint("fk_teams_programme_id_programmes", type_="foreignkey")
        for column in (
            "status_changed_at",
            "talent_support_applied",
            "preliminary_review",
            "applicant_rank",
            "elimination_reason",
            "stage_number",
            "lead_organisation_id",
            "programme_id",
        ):
            batch.drop_column(column)
    op.drop_table("stages")
    op.drop_table("organisation_roles")
    op.drop_table("programmes")
    op.drop_table("organisations")
