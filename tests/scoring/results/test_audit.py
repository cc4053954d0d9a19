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


class TestReadingAndVerifyingTheTrail:
    async def test_operators_read_the_trail_a_page_at_a_time_with_each_entrys_hash(
        self, scoring: Scoring
    ) -> None:
        await five_team_stage(scoring)
        first = await body(
            await scoring.client.get("/v1/audit", params={"limit": 2}, headers=scoring.operator())
        )
        second = await body(
            await scoring.client.get(
                "/v1/audit", params={"limit": 2, "cursor": first["next_cursor"]}, headers=scoring.operator()
            )
        )
        entries = first["items"] + second["items"]
        assert [e["seq"] for e in entries] == [1, 2, 3, 4]
        assert [e["prev_hash"] for e in entries[1:]] == [e["hash"] for e in entries[:-1]]

    async def test_a_team_cannot_read_the_trail(self, scoring: Scoring) -> None:
        world = await five_team_stage(scoring)
        response = await scoring.client.get("/v1/audit", headers=scoring.as_team(world.teams["Upstage"]))
        assert response.status_code == 403

    async def test_the_chain_verifies_intact_up_to_its_head(self, scoring: Scoring) -> None:
        await five_team_stage(scoring)
        report = await body(await scoring.client.get("/v1/audit/verification", headers=scoring.operator()))
        assert report["intact"] is True
        assert report["problem"] is None
        assert report["entries_checked"] == report["head_seq"] > 0

    async def test_an_anchor_the_chain_does_not_hold_is_reported(self, scoring: Scoring) -> None:
        await five_team_stage(scoring)
        report = await body(
            await scoring.client.get(
                "/v1/audit/verification",
                params={"anchor_seq": 1, "anchor_hash": "f" * 64},
                headers=scoring.operator(),
            )
        )
        assert (report["intact"], report["problem"], report["first_broken_seq"]) == (
            False,
            "anchor-mismatch",
            1,
        )

    async def test_an_anchor_needs_both_its_sequence_number_and_its_hash(self, scoring: Scoring) -> None:
        response = await scoring.client.get(
            "/v1/audit/verification", params={"anchor_seq": 1}, headers=scoring.operator()
        )
        assert response.status_code == 422
