"""The audit trail's filters refuse what the database cannot compare (found by test_api_fuzz.py)."""

from __future__ import annotations

from grievance.harness import Grievance


class TestAuditFilters:
    async def test_a_nul_character_in_the_entity_filter_is_a_422_problem(self, grievance: Grievance) -> None:
        """PostgreSQL cannot compare text with NUL: this answered 500 there."""
        response = await grievance.client.get(
            "/v1/audit", params={"entity_id": "a\x00"}, headers=grievance.operator()
        )

        assert response.status_code == 422, response.text
        assert response.json()["code"] == "validation-failed"

    async def test_an_ordinary_entity_filter_still_answers(self, grievance: Grievance) -> None:
        response = await grievance.client.get(
            "/v1/audit", params={"entity_id": str(grievance.stage_id)}, headers=grievance.operator()
        )

        assert response.status_code == 200, response.text
        assert response.json()["items"] == []
