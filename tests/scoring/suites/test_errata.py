"""Answer-key errata: a new revision of a suite's key, with its reason, audited and listed for every
team (never the answers); refused when it names no real change."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from fmc_scoring.audit.models import ScoringAuditEntry
from scoring.harness import Scoring, body
from scoring.suites.test_suites_api import suite_body

pytestmark = pytest.mark.broker


async def suite(scoring: Scoring) -> dict[str, Any]:
    created = suite_body(f"capitals-{uuid.uuid4().hex[:6]}")
    created["items"].append(
        {"item_id": "q2", "prompt": "Capital of Japan?", "choices": ["Tokyo", "Kyoto"], "answer": "A"}
    )
    made: dict[str, Any] = await body(
        await scoring.client.post("/v1/suites", json=created, headers=scoring.operator()), 201
    )
    return made


def erratum(
    *items: dict[str, Any], reason: str = "the source's answer was mis-transcribed"
) -> dict[str, Any]:
    return {"reason": reason, "items": list(items)}


class TestKeyErrata:
    async def test_an_erratum_is_a_new_key_revision_listed_for_every_team_and_audited(
        self, scoring: Scoring
    ) -> None:
        created = await suite(scoring)
        assert created["key_revision"] == 1
        path = f"/v1/suites/{created['id']}/key-revisions"
        revision = await body(
            await scoring.client.post(
                path, json=erratum({"item_id": "q1", "answer": "A"}), headers=scoring.operator()
            ),
            201,
        )
        assert (revision["revision"], revision["item_ids"]) == (2, ["q1"])
        again = await body(
            await scoring.client.get(f"/v1/suites/{created['id']}", headers=scoring.operator())
        )
        assert again["key_revision"] == 2
        assert again["content_hash"] == created["content_hash"]  # the version as published stays named
        seen = await body(await scoring.client.get(path, headers=scoring.as_team(uuid.uuid4())))
        assert [(r["revision"], r["reason"], r["item_ids"]) for r in seen] == [
            (2, "the source's answer was mis-transcribed", ["q1"])
        ]
        assert "answer" not in str(seen[0]).replace("the source's answer", "")  # never the answers
        async with scoring.runtime.sessions() as session:
            entry = await session.scalar(
                select(ScoringAuditEntry).where(
                    ScoringAuditEntry.action == "suite.key-revised",
                    ScoringAuditEntry.entity_id == created["id"],
                )
            )
        assert entry is not None
        assert entry.reason == "the source's answer was mis-transcribed"
        assert entry.details["revision"] == 2
        assert entry.actor_subject == "operator-kim"

    @pytest.mark.parametrize(
        "items",
        [
            [{"item_id": "q9", "answer": "A"}],
            [{"item_id": "q1", "answer": "B"}],
            [{"item_id": "q1", "answer": "A"}, {"item_id": "q1", "answer": "A"}],
            [{"item_id": "q1", "answer": "Daegu"}],
        ],
        ids=["unknown-item", "unchanged-key", "item-twice", "answer-outside-the-choices"],
    )
    async def test_an_erratum_that_corrects_nothing_real_is_refused(
        self, scoring: Scoring, items: list[dict[str, Any]]
    ) -> None:
        created = await suite(scoring)
        response = await scoring.client.post(
            f"/v1/suites/{created['id']}/key-revisions", json=erratum(*items), headers=scoring.operator()
        )
        assert (response.status_code, response.json()["code"]) == (422, "erratum-invalid")

    async def test_only_operators_publish_errata(self, scoring: Scoring) -> None:
        created = await suite(scoring)
        response = await scoring.client.post(
            f"/v1/suites/{created['id']}/key-revisions",
            json=erratum({"item_id": "q1", "answer": "A"}),
            headers=scoring.as_team(uuid.uuid4()),
        )
        assert response.status_code == 403
