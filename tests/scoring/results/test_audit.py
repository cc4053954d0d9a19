"""Scoring's audit trail: every decision is recorded, and the database refuses to rewrite it."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from fmc_common.db import transaction
from fmc_scoring.audit.models import ScoringAuditEntry
from scoring.harness import Scoring, body, five_team_stage

pytestmark = pytest.mark.broker


class TestAuditTrail:
    async def test_criteria_planning_proposal_and_approval_are_recorded(self, scoring: Scoring) -> None:
        world = await five_team_stage(scoring)
        operator = scoring.operator()
        await body(await scoring.client.post(f"/v1/stages/{world.stage_id}/results", headers=operator), 201)
        await body(
            await scoring.client.post(f"/v1/stages/{world.stage_id}/results/1/approval", headers=operator)
        )
        async with scoring.runtime.sessions() as session:
            entries = list(await session.scalars(select(ScoringAuditEntry).order_by(ScoringAuditEntry.seq)))
        mine = [
            e
            for e in entries
            if e.entity_id == str(world.stage_id) or e.details.get("stage_id") == str(world.stage_id)
        ]
        actions = [e.action for e in mine]
        assert actions[:3] == ["criteria.set", "criteria.frozen", "evaluation.planned"]
        # Publishing fixes the evidence cut-off the criteria left open (docs/scoring.md, "Evidence cut-off").
        assert actions[-3:] == ["result.proposed", "criteria.cutoff-fixed", "result.approved"]
        approval = mine[-1]
        assert (approval.actor_subject, approval.actor_role) == ("operator-kim", "operator")

    @pytest.mark.parametrize(
        "statement", ["UPDATE scoring_audit SET action = 'forged'", "DELETE FROM scoring_audit"]
    )
    async def test_the_database_refuses_to_rewrite_the_trail(self, scoring: Scoring, statement: str) -> None:
        await five_team_stage(scoring)
        with pytest.raises(DBAPIError, match="append-only"):
            async with transaction(scoring.runtime.sessions) as session:
                await session.execute(text(statement))
