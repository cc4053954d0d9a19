"""Notifications, objections (versions, attachments, re-evaluations), closings, hash-chained audit trail.

Revision ID: grievance_0002
Revises: grievance_0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fmc_common.db import UtcDateTime

revision: str = "grievance_0002"
down_revision: str | None = "grievance_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64


def upgrade() -> None:
    _notifications()
    _objections()
    _closings()
    _audit()


def _notifications() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("decision_kind", sa.String(32), nullable=False),
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("programme_id", sa.Uuid(), nullable=True),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("reason_code", sa.String(64), nullable=True),
        sa.Column("notified_at", UtcDateTime(), nullable=False),
        sa.Column("objection_days", sa.Integer(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("closes_at", UtcDateTime(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.UniqueConstraint(
            "decision_kind",
            "decision_id",
            "team_id",
            name="uq_notifications_decision_kind_decision_id_team_id",
        ),
    )
    op.create_index("ix_notifications_stage_id", "notifications", ["stage_id"])
    op.create_index("ix_notifications_team_id", "notifications", ["team_id"])
    op.create_index("ix_notifications_closes_at", "notifications", ["closes_at"])


def _objections() -> None:
    op.create_table(
        "objections",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("decision_kind", sa.String(32), nullable=False),
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("client_key", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("filed_at", UtcDateTime(), nullable=False),
        sa.Column("filed_by", sa.String(200), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("review_started_at", UtcDateTime(), nullable=True),
        sa.Column("reviewer", sa.String(200), nullable=True),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["notification_id"], ["notifications.id"], name="fk_objections_notification_id_notifications"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_objections"),
        sa.UniqueConstraint("team_id", "client_key", name="uq_objections_team_id_client_key"),
    )
    op.create_index("ix_objections_notification_id", "objections", ["notification_id"])
    op.create_index("ix_objections_team_id", "objections", ["team_id"])
    op.create_index("ix_objections_decision_id", "objections", ["decision_id"])
    op.create_table(
        "objection_versions",
        sa.Column("objection_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("grounds", sa.String(32), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("client_key", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["objection_id"], ["objections.id"], name="fk_objection_versions_objection_id_objections"
        ),
        sa.PrimaryKeyConstraint("objection_id", "version", name="pk_objection_versions"),
        sa.UniqueConstraint(
            "objection_id", "client_key", name="uq_objection_versions_objection_id_client_key"
        ),
    )
    op.create_table(
        "attachment_blobs",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_attachment_blobs"),
    )
    op.create_table(
        "version_attachments",
        sa.Column("objection_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["objection_id", "version"],
            ["objection_versions.objection_id", "objection_versions.version"],
            name="fk_version_attachments_objection_versions",
        ),
        sa.ForeignKeyConstraint(
            ["sha256"], ["attachment_blobs.sha256"], name="fk_version_attachments_sha256_attachment_blobs"
        ),
        sa.PrimaryKeyConstraint("objection_id", "version", "position", name="pk_version_attachments"),
    )
    op.create_index("ix_version_attachments_sha256", "version_attachments", ["sha256"])
    op.create_table(
        "re_evaluations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("objection_id", sa.Uuid(), nullable=False),
        sa.Column("decision_kind", sa.String(32), nullable=False),
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("concerns", sa.JSON(), nullable=False),
        sa.Column("requested_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["objection_id"], ["objections.id"], name="fk_re_evaluations_objection_id_objections"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_re_evaluations"),
        sa.UniqueConstraint("objection_id", name="uq_re_evaluations_objection_id"),
    )
    op.create_index("ix_re_evaluations_decision_id", "re_evaluations", ["decision_id"])


def _closings() -> None:
    op.create_table(
        "window_closings",
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("closed_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"], ["notifications.id"], name="fk_window_closings_notification_id_notifications"
        ),
        sa.PrimaryKeyConstraint("notification_id", name="pk_window_closings"),
    )
    op.create_table(
        "decision_closings",
        sa.Column("decision_kind", sa.String(32), nullable=False),
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("closed_at", UtcDateTime(), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("decision_kind", "decision_id", name="pk_decision_closings"),
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
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor_subject", sa.String(200), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("entity_type", sa.String(50), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_entries"),
    )
    op.create_index("ix_audit_entries_entity_id", "audit_entries", ["entity_id"])
    op.create_index("ix_audit_entries_team_id", "audit_entries", ["team_id"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS}])
    # The database itself refuses to rewrite or remove an entry; the hash chain shows it if someone
    # with the rights to lift that rule does it anyway.
    statements = APPEND_ONLY_POSTGRES if op.get_bind().dialect.name == "postgresql" else APPEND_ONLY_SQLITE
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION audit_entries_append_only()")
    for table in (
        "audit_head",
        "audit_entries",
        "decision_closings",
        "window_closings",
        "re_evaluations",
        "version_attachments",
        "attachment_blobs",
        "objection_versions",
        "objections",
        "notifications",
    ):
        op.drop_table(table)
