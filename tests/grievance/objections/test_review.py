"""Review: received → under review → accepted / rejected with a written reason, or withdrawn by the team."""

from __future__ import annotations

import uuid

from grievance.harness import Grievance, grievance_events, of_type

REASON = "The decoding parameters differed from the ones agreed with the teams."


async def filed(grievance: Grievance, grounds: str = "process-defect") -> tuple[uuid.UUID, str]:
    team = uuid.uuid4()
    await grievance.notify([team])
    response = await grievance.file(team, grounds=grounds)
    assert response.status_code == 201, response.text
    return team, str(response.json()["id"])


class TestDecide:
    async def test_a_rejection_carries_its_reason_to_the_team(
        self, grievance: Grievance, broker: str
    ) -> None:
        team, objection = await filed(grievance)
        decided = await grievance.review_and_decide(
            objection, "rejected", "The parameters were the agreed ones."
        )
        assert decided.status_code == 200, decided.text
        mine = (
            await grievance.client.get(f"/v1/objections/{objection}", headers=grievance.team(team))
        ).json()
        assert mine["status"] == "rejected"
        assert mine["resolution"]["reason"] == "The parameters were the agreed ones."
        assert mine["resolution"]["decided_by"] == "operator-kim"
        assert mine["resolution"]["re_evaluation"] is None
        events = await grievance_events(
            broker, grievance.stage_id, until=lambda found: bool(of_type(found, "objection-decided"))
        )
        [event] = of_type(events, "objection-decided")
        assert event.data["outcome"] == "rejected"
        assert event.data["reason"] == "The parameters were the agreed ones."
        assert of_type(events, "re-evaluation-requested") == []

    async def test_a_decision_without_a_written_reason_is_refused(self, grievance: Grievance) -> None:
        _, objection = await filed(grievance)
        response = await grievance.review_and_decide(objection, "rejected", "no")
        assert response.status_code == 422
        assert ["body", "reason"] in [e["location"] for e in response.json()["errors"]]

    async def test_deciding_before_the_review_started_is_refused(self, grievance: Grievance) -> None:
        _, objection = await filed(grievance)
        response = await grievance.client.post(
            f"/v1/objections/{objection}/decision",
            json={"outcome": "rejected", "reason": REASON},
            headers=grievance.operator(),
        )
        assert response.status_code == 409
        assert response.json()["code"] == "illegal-objection-transition"
        assert response.json()["allowed"] == ["under-review", "withdrawn"]


class TestReEvaluation:
    async def test_an_accepted_process_objection_requests_a_re_evaluation_of_the_process(
        self, grievance: Grievance, broker: str
    ) -> None:
        team, objection = await filed(grievance, "process-defect")
        decided = await grievance.review_and_decide(objection, "accepted", REASON)
        assert decided.status_code == 200, decided.text
        request = decided.json()["resolution"]["re_evaluation"]
        assert request["concerns"] == ["process"]
        events = await grievance_events(
            broker, grievance.stage_id, until=lambda found: bool(of_type(found, "re-evaluation-requested"))
        )
        [event] = of_type(events, "re-evaluation-requested")
        assert event.data["request_id"] == request["request_id"]
        assert event.data["stage_id"] == str(grievance.stage_id)
        assert event.data["team_id"] == str(team)
        assert event.data["concerns"] == ["process"]
        assert event.data["reason"] == REASON
        # Decided before the re-evaluation was asked for, on the same stage-keyed partition.
        types = [e.type.split(".")[2] for e in events]
        assert types.index("objection-decided") < types.index("re-evaluation-requested")

    async def test_an_accepted_scoring_error_needs_what_it_concerns(self, grievance: Grievance) -> None:
        _, objection = await filed(grievance, "scoring-error")
        refused = await grievance.review_and_decide(objection, "accepted", REASON)
        assert refused.status_code == 422
        assert refused.json()["code"] == "re-evaluation-scope-required"
        accepted = await grievance.client.post(
            f"/v1/objections/{objection}/decision",
            json={"outcome": "accepted", "reason": REASON, "concerns": ["benchmark-suite", "expert-panel"]},
            headers=grievance.operator(),
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["resolution"]["re_evaluation"]["concerns"] == [
            "benchmark-suite",
            "expert-panel",
        ]

    async def test_an_accepted_objection_on_other_grounds_asks_for_no_re_evaluation(
        self, grievance: Grievance
    ) -> None:
        _, objection = await filed(grievance, "other")
        accepted = await grievance.review_and_decide(objection, "accepted", REASON)
        assert accepted.status_code == 200
        assert accepted.json()["resolution"]["re_evaluation"] is None


class TestWithdraw:
    async def test_the_team_withdraws_its_objection_and_then_nothing_more_changes(
        self, grievance: Grievance
    ) -> None:
        team, objection = await filed(grievance)
        withdrawn = await grievance.client.post(
            f"/v1/objections/{objection}/withdrawal",
            json={"reason": "We settled the question with the office."},
            headers=grievance.team(team),
        )
        assert withdrawn.status_code == 200, withdrawn.text
        assert withdrawn.json()["status"] == "withdrawn"
        assert withdrawn.json()["resolution"]["outcome"] == "withdrawn"
        amended = await grievance.amend(team, objection, "One more thing.")
        assert amended.status_code == 409
        assert amended.json()["code"] == "illegal-objection-transition"
        review = await grievance.client.post(
            f"/v1/objections/{objection}/review", json={}, headers=grievance.operator()
        )
        assert review.status_code == 409


class TestHistory:
    async def test_every_change_is_in_the_history_with_actor_time_and_reason(
        self, grievance: Grievance
    ) -> None:
        team, objection = await filed(grievance)
        assert (await grievance.amend(team, objection, "A clearer statement.")).status_code == 201
        assert (await grievance.review_and_decide(objection, "accepted", REASON)).status_code == 200
        history = await grievance.client.get(
            f"/v1/objections/{objection}/history", headers=grievance.team(team)
        )
        assert history.status_code == 200
        entries = history.json()["items"]
        assert [e["action"] for e in entries] == [
            "objection.filed",
            "objection.amended",
            "objection.review-started",
            "objection.accepted",
            "re-evaluation.requested",
        ]
        assert entries[0]["actor_subject"] == f"team-{team.hex[:6]}"
        assert entries[3]["actor_subject"] == "operator-kim"
        assert entries[3]["actor_role"] == "operator"
        assert entries[3]["reason"] == REASON
        assert entries[1]["details"]["version"] == 2
        assert all(e["at"] for e in entries)
