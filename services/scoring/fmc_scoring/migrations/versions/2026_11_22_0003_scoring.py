"""Scoring: suites and answer keys, criteria, planned runs and grades, expert panel, arena, results, audit.

Revision ID: scoring_0003
Revises: scoring_0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fmc_common.db import UtcDateTime

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

revision: str = "scoring_0003"
down_revision: str | None = "scoring_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "arena_battles",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("voter", sa.String(length=200), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("a_team_id", sa.Uuid(), nullable=False),
        sa.Column("b_team_id", sa.Uuid(), nullable=False),
        sa.Column("a_submission_id", sa.Uuid(), nullable=False),
        sa.Column("b_submission_id", sa.Uuid(), nullable=False),
        sa.Column("a_text", sa.Text(), nullable=False),
        sa.Column("b_text", sa.Text(), nullable=False),
        sa.Column("gateway_battle_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arena_battles")),
    )
    with op.batch_alter_table("arena_battles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_arena_battles_stage_id"), ["stage_id"], unique=False)
        batch_op.create_index("ix_arena_battles_voter_created_at", ["voter", "created_at"], unique=False)

    op.create_table(
        "arena_votes",
        sa.Column("battle_id", sa.Uuid(), nullable=False),
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("voter", sa.String(length=200), nullable=False),
        sa.Column("choice", sa.String(length=16), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("discard_reason", sa.String(length=64), nullable=True),
        sa.Column("seoul_day", sa.String(length=10), nullable=False),
        sa.Column("voted_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("battle_id", name=op.f("pk_arena_votes")),
    )
    with op.batch_alter_table("arena_votes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_arena_votes_stage_id"), ["stage_id"], unique=False)
        batch_op.create_index("ix_arena_votes_voter_day", ["voter", "seoul_day"], unique=False)

    op.create_table(
        "evaluations",
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("programme_id", sa.Uuid(), nullable=False),
        sa.Column("stage_number", sa.Integer(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("planned_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("stage_id", name=op.f("pk_evaluations")),
    )
    op.create_table(
        "expert_panels",
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("deadline", UtcDateTime(), nullable=False),
        sa.Column("opened_by", sa.String(length=200), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("stage_id", name=op.f("pk_expert_panels")),
    )
    op.create_table(
        "expert_scores",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("evaluator", sa.String(length=200), nullable=False),
        sa.Column("technical_originality", sa.Float(), nullable=False),
        sa.Column("technological_capability", sa.Float(), nullable=False),
        sa.Column("readiness", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("submitted_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expert_scores")),
        sa.UniqueConstraint(
            "stage_id", "team_id", "evaluator", name=op.f("uq_expert_scores_stage_id_team_id_evaluator")
        ),
    )
    with op.batch_alter_table("expert_scores", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_expert_scores_stage_id"), ["stage_id"], unique=False)

    op.create_table(
        "scoring_audit",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor_subject", sa.String(length=200), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("entity_type", sa.String(length=50), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_scoring_audit")),
    )
    with op.batch_alter_table("scoring_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scoring_audit_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scoring_audit_entity_type"), ["entity_type"], unique=False)

    # Who decided what and why must outlive any later mistake or cover-up: the database itself
    # refuses to rewrite or remove an entry.
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in APPEND_ONLY_POSTGRES if postgres else APPEND_ONLY_SQLITE:
        op.execute(statement)

    op.create_table(
        "stage_criteria",
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("advancing", sa.Integer(), nullable=False),
        sa.Column("weight_benchmark", sa.Float(), nullable=False),
        sa.Column("weight_expert", sa.Float(), nullable=False),
        sa.Column("weight_user", sa.Float(), nullable=False),
        sa.Column("overall_threshold", sa.Float(), nullable=True),
        sa.Column("tie_break", sa.JSON(), nullable=False),
        sa.Column("decoding", sa.JSON(), nullable=False),
        sa.Column("limits", sa.JSON(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("frozen_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("stage_id", name=op.f("pk_stage_criteria")),
    )
    op.create_table(
        "stage_results",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("cause", sa.String(length=32), nullable=False),
        sa.Column("cause_id", sa.Uuid(), nullable=True),
        sa.Column("cause_reason", sa.Text(), nullable=True),
        sa.Column("advancing_planned", sa.Integer(), nullable=False),
        sa.Column("advancing", sa.Integer(), nullable=False),
        sa.Column("vacancies", sa.Integer(), nullable=False),
        sa.Column("blocking", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("proposed_by", sa.String(length=200), nullable=False),
        sa.Column("proposed_at", UtcDateTime(), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("approved_at", UtcDateTime(), nullable=True),
        sa.Column("finalized_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_results")),
        sa.UniqueConstraint("stage_id", "version", name=op.f("uq_stage_results_stage_id_version")),
    )
    with op.batch_alter_table("stage_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stage_results_stage_id"), ["stage_id"], unique=False)

    op.create_table(
        "suites",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("version", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("items_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suites")),
        sa.UniqueConstraint("key", "version", name=op.f("uq_suites_key_version")),
    )
    op.create_table(
        "evaluated_submissions",
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("endpoint", sa.JSON(), nullable=False),
        sa.Column("manifest_digest", sa.String(length=71), nullable=False),
        sa.ForeignKeyConstraint(
            ["stage_id"],
            ["evaluations.stage_id"],
            name=op.f("fk_evaluated_submissions_stage_id_evaluations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("stage_id", "team_id", name=op.f("pk_evaluated_submissions")),
    )
    op.create_table(
        "panel_evaluators",
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("affiliations", sa.JSON(), nullable=False),
        sa.Column("declared_conflicts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["stage_id"],
            ["expert_panels.stage_id"],
            name=op.f("fk_panel_evaluators_stage_id_expert_panels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("stage_id", "subject", name=op.f("pk_panel_evaluators")),
    )
    op.create_table(
        "planned_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("suite_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("requested_at", UtcDateTime(), nullable=False),
        sa.Column("completed_at", UtcDateTime(), nullable=True),
        sa.Column("responses_sha256", sa.String(length=64), nullable=True),
        sa.Column("failure_code", sa.String(length=64), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["suite_id"], ["suites.id"], name=op.f("fk_planned_runs_suite_id_suites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planned_runs")),
        sa.UniqueConstraint(
            "stage_id",
            "submission_id",
            "suite_id",
            name=op.f("uq_planned_runs_stage_id_submission_id_suite_id"),
        ),
    )
    with op.batch_alter_table("planned_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_planned_runs_stage_id"), ["stage_id"], unique=False)

    op.create_table(
        "stage_criteria_suites",
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("suite_id", sa.Uuid(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("min_accuracy", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["stage_id"],
            ["stage_criteria.stage_id"],
            name=op.f("fk_stage_criteria_suites_stage_id_stage_criteria"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["suite_id"], ["suites.id"], name=op.f("fk_stage_criteria_suites_suite_id_suites")
        ),
        sa.PrimaryKeyConstraint("stage_id", "suite_id", name=op.f("pk_stage_criteria_suites")),
    )
    op.create_table(
        "suite_answer_keys",
        sa.Column("suite_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.String(length=200), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["suite_id"], ["suites.id"], name=op.f("fk_suite_answer_keys_suite_id_suites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("suite_id", "item_id", name=op.f("pk_suite_answer_keys")),
    )
    op.create_table(
        "suite_items",
        sa.Column("suite_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=200), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["suite_id"], ["suites.id"], name=op.f("fk_suite_items_suite_id_suites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("suite_id", "seq", name=op.f("pk_suite_items")),
        sa.UniqueConstraint("suite_id", "item_id", name=op.f("uq_suite_items_suite_id_item_id")),
    )
    op.create_table(
        "team_results",
        sa.Column("result_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("composite", sa.Float(), nullable=True),
        sa.Column("benchmark", sa.Float(), nullable=True),
        sa.Column("expert", sa.Float(), nullable=True),
        sa.Column("user", sa.Float(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["result_id"],
            ["stage_results.id"],
            name=op.f("fk_team_results_result_id_stage_results"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("result_id", "team_id", name=op.f("pk_team_results")),
    )
    op.create_table(
        "item_grades",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("extracted", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["planned_runs.id"],
            name=op.f("fk_item_grades_run_id_planned_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "item_id", name=op.f("pk_item_grades")),
    )
    op.create_table(
        "run_grades",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("stage_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("suite_id", sa.Uuid(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("correct", sa.Float(), nullable=False),
        sa.Column("errored", sa.Integer(), nullable=False),
        sa.Column("accuracy", sa.Float(), nullable=False),
        sa.Column("ci_low", sa.Float(), nullable=False),
        sa.Column("ci_high", sa.Float(), nullable=False),
        sa.Column("level", sa.Float(), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("responses_sha256", sa.String(length=64), nullable=False),
        sa.Column("graded_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["planned_runs.id"],
            name=op.f("fk_run_grades_run_id_planned_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_run_grades")),
    )
    with op.batch_alter_table("run_grades", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_grades_stage_id"), ["stage_id"], unique=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER scoring_audit_append_only ON scoring_audit")
        op.execute("DROP FUNCTION scoring_audit_append_only()")
    with op.batch_alter_table("run_grades", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_grades_stage_id"))

    op.drop_table("run_grades")
    op.drop_table("item_grades")
    op.drop_table("team_results")
    op.drop_table("suite_items")
    op.drop_table("suite_answer_keys")
    op.drop_table("stage_criteria_suites")
    with op.batch_alter_table("planned_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_planned_runs_stage_id"))

    op.drop_table("planned_runs")
    op.drop_table("panel_evaluators")
    op.drop_table("evaluated_submissions")
    op.drop_table("suites")
    with op.batch_alter_table("stage_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stage_results_stage_id"))

    op.drop_table("stage_results")
    op.drop_table("stage_criteria")
    with op.batch_alter_table("scoring_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scoring_audit_entity_type"))
        batch_op.drop_index(batch_op.f("ix_scoring_audit_entity_id"))

    op.drop_table("scoring_audit")
    with op.batch_alter_table("expert_scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_expert_scores_stage_id"))

    op.drop_table("expert_scores")
    op.drop_table("expert_panels")
    op.drop_table("evaluations")
    with op.batch_alter_table("arena_votes", schema=None) as batch_op:
        batch_op.drop_index("ix_arena_votes_voter_day")
        batch_op.drop_index(batch_op.f("ix_arena_votes_stage_id"))

    op.drop_table("arena_votes")
    with op.batch_alter_table("arena_battles", schema=None) as batch_op:
        batch_op.drop_index("ix_arena_battles_voter_created_at")
        batch_op.drop_index(batch_op.f("ix_arena_battles_stage_id"))

    op.drop_table("arena_battles")
