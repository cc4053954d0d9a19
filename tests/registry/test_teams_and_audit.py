"""Team lifecycle over the API (audited, announced, illegal steps refused), the audit trail (readable
by operators, append-only in the database), and input hygiene."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from fmc_common import db
from fmc_common.auth import Role
from fmc_common.events.topics import Topic
from registry.factories import find_event, programme, set_status, team
from registry.harness import Registry


class TestTeamStatus:
    async def test_a_status_change_is_audited_with_who_when_and_why_and_announced(
        self, registry: Registry
    ) -> None:
        world = await programme(registry)
        team_id = await team(registry, world, selected=False)
        changed = await set_status(
            registry, team_id, "selected", reason="selected by the evaluation committee"
        )
        assert changed["status"] == "selected"
        trail = await registry.client.get(
            "/v1/audit", params={"entity_id": str(team_id)}, headers=registry.operator()
        )
        entry = trail.json()["items"][-1]
        assert entry["action"] == "team.status-changed"
        assert entry["actor_subject"] == "operator-kim"
        assert entry["reason"] == "selected by the evaluation committee"
        assert entry["details"]["from"] == "applicant"
        assert entry["at"]
        event = await find_event(
            registry.bootstrap,
            Topic.REGISTRY,
            "fmc.registry.team-status-changed.v1",
            {"team_id": str(team_id), "to_status": "selected"},
        )
        assert event["data"]["from_status"] == "applicant"

    async def test_an_illegal_transition_is_refused_with_a_clear_code(self, registry: Registry) -> None:
        world = await programme(registry)
        team_id = await team(registry, world, selected=False)
        response = await registry.client.post(
            f"/v1/teams/{team_id}/status",
            json={"to": "advanced", "reason": "skip ahead"},
            headers=registry.operator(),
        )
        assert response.status_code == 409
        assert response.json()["code"] == "illegal-status-transition"
        assert response.json()["allowed"] == ["selected", "withdrawn"]

    async def test_an_elimination_needs_a_reason_code(self, registry: Registry) -> None:
        world = await programme(registry)
        team_id = await team(registry, world)
        await set_status(registry, team_id, "in-stage", stage_number=1)
        response = await registry.client.post(
            f"/v1/teams/{team_id}/status",
            json={"to": "eliminated", "reason": "x"},
            headers=registry.operator(),
        )
        assert response.status_code == 422
        done = await set_status(registry, team_id, "eliminated", reason_code="originality")
        assert (done["elimination_reason"], done["stage_number"]) == ("originality", 1)

    async def test_opening_a_stage_brings_the_selected_teams_in(self, registry: Registry) -> None:
        world = await programme(registry)
        selected = await team(registry, world)
        applicant = await team(registry, world, selected=False)
        await registry.client.post(
            f"/v1/stages/{world.stage_ids[1]}/status",
            json={"to": "open-for-submissions"},
            headers=registry.operator(),
        )
        statuses = {}
        for team_id in (selected, applicant):
            body = (await registry.client.get(f"/v1/teams/{team_id}", headers=registry.operator())).json()
            statuses[team_id] = (body["status"], body["stage_number"])
        assert statuses == {selected: ("in-stage", 1), applicant: ("applicant", None)}
        opened = await find_event(
            registry.bootstrap,
            Topic.REGISTRY,
            "fmc.registry.stage-opened.v1",
            {"stage_id": str(world.stage_ids[1])},
        )
        assert opened["data"]["team_ids"] == [str(selected)]

    async def test_a_team_reads_its_consortium_members(self, registry: Registry) -> None:
        world = await programme(registry)
        team_id = await team(registry, world, members=["Seoul National University", "KAIST"])
        body = (await registry.client.get(f"/v1/teams/{team_id}", headers=registry.as_team(team_id))).json()
        assert sorted((m["role"], m["name"]) for m in body["members"])[-2:] == [
            ("member", "KAIST"),
            ("member", "Seoul National University"),
        ]


class TestAuditTrail:
    async def test_only_operators_read_it(self, registry: Registry) -> None:
        for role in (Role.SERVICE, Role.EVALUATOR):
            assert (await registry.client.get("/v1/audit", headers=registry.as_role(role))).status_code == 403
        assert (
            await registry.client.get("/v1/audit", headers=registry.as_team(uuid.uuid4()))
        ).status_code == 403

    async def test_the_trail_of_a_team_is_paginated_in_order(self, registry: Registry) -> None:
        world = await programme(registry)
        team_id = await team(registry, world)
        await set_status(registry, team_id, "in-stage", stage_number=1)
        await set_status(registry, team_id, "eliminated", reason_code="rank")
        await set_status(registry, team_id, "withdrawn")
        entries: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {"entity_id": str(team_id), "limit": "2"} | ({"cursor": cursor} if cursor else {})
            page = (await registry.client.get("/v1/audit", params=params, headers=registry.operator())).json()
            entries.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        seqs = [int(e["seq"]) for e in entries]
        assert seqs == sorted(set(seqs))
        steps = [e["details"]["to"] for e in entries if e["action"] == "team.status-changed"]
        assert steps == ["selected", "in-stage", "eliminated", "withdrawn"]

    @pytest.mark.parametrize(
        "statement", ["UPDATE audit_entries SET reason = 'rewritten'", "DELETE FROM audit_entries"]
    )
    async def test_the_database_refuses_to_rewrite_or_delete_entries(
        self, registry: Registry, statement: str
    ) -> None:
        await programme(registry)
        engine = db.create_engine(registry.database_url)
        try:
            with pytest.raises(DBAPIError, match="append-only"):
                async with engine.begin() as connection:
                    await connection.execute(text(statement))
            async with engine.connect() as connection:
                rewritten = await connection.scalar(
                    text("SELECT count(*) FROM audit_entries WHERE reason = 'rewritten'")
                )
                remaining = await connection.scalar(text("SELECT count(*) FROM audit_entries"))
        finally:
            await engine.dispose()
        assert rewritten == 0
        assert remaining


class TestInputHygiene:
    async def test_a_nul_character_is_refused_at_the_edge(self, registry: Registry) -> None:
        world = await programme(registry)
        team_id = await team(registry, world)
        response = await registry.client.post(
            f"/v1/stages/{world.stage_ids[1]}/teams/{team_id}/statements",
            json={"text": "before\x00after"},
            headers=registry.as_team(team_id),
        )
        assert response.status_code == 422
        assert response.json()["code"] == "validation-failed"

    async def test_unknown_fields_are_refused(self, registry: Registry) -> None:
        response = await registry.client.post(
            "/v1/programmes", json={"name": "x", "budget_won": 1, "secret": True}, headers=registry.operator()
        )
        assert response.status_code == 422
