"""Suites through the API: versions are content-addressed, keys are never served, local imports."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from scoring.harness import Scoring, body

pytestmark = pytest.mark.broker


def suite_body(key: str, answer: str = "B", **overrides: Any) -> dict[str, Any]:
    return {
        "key": key,
        "version": "1.0.0",
        "title": "Capitals",
        "language": "en",
        "kind": "multiple-choice",
        "items": [
            {"item_id": "q1", "prompt": "Capital of Korea?", "choices": ["Busan", "Seoul"], "answer": answer}
        ],
    } | overrides


class TestCreateSuite:
    async def test_the_same_content_again_returns_the_same_version(self, scoring: Scoring) -> None:
        key = f"capitals-{uuid.uuid4().hex[:6]}"
        first = await body(
            await scoring.client.post("/v1/suites", json=suite_body(key), headers=scoring.operator()), 201
        )
        again = await body(
            await scoring.client.post("/v1/suites", json=suite_body(key), headers=scoring.operator()), 201
        )
        assert again["id"] == first["id"]
        assert len(first["content_hash"]) == 64

    async def test_other_content_under_an_existing_version_is_refused(self, scoring: Scoring) -> None:
        key = f"capitals-{uuid.uuid4().hex[:6]}"
        await body(
            await scoring.client.post("/v1/suites", json=suite_body(key), headers=scoring.operator()), 201
        )
        changed = await scoring.client.post(
            "/v1/suites", json=suite_body(key, answer="A"), headers=scoring.operator()
        )
        assert (changed.status_code, changed.json()["code"]) == (409, "suite-version-exists")

    async def test_an_answer_outside_the_choices_is_refused(self, scoring: Scoring) -> None:
        response = await scoring.client.post(
            "/v1/suites",
            json=suite_body(f"bad-{uuid.uuid4().hex[:6]}", answer="Z"),
            headers=scoring.operator(),
        )
        assert (response.status_code, response.json()["code"]) == (422, "suite-invalid")

    async def test_only_operators_create_suites(self, scoring: Scoring) -> None:
        response = await scoring.client.post("/v1/suites", json=suite_body("x"), headers=scoring.service())
        assert response.status_code == 403


class TestReadSuites:
    async def test_items_are_served_without_their_keys(self, scoring: Scoring) -> None:
        created = await body(
            await scoring.client.post(
                "/v1/suites", json=suite_body(f"capitals-{uuid.uuid4().hex[:6]}"), headers=scoring.operator()
            ),
            201,
        )
        page = await body(
            await scoring.client.get(f"/v1/suites/{created['id']}/items", headers=scoring.operator())
        )
        assert set(page["items"][0]) == {"seq", "item_id", "prompt", "choices", "labels"}
        assert "answer" not in json.dumps(page)

    async def test_a_team_may_not_read_suites(self, scoring: Scoring) -> None:
        response = await scoring.client.get("/v1/suites", headers=scoring.as_team(uuid.uuid4()))
        assert response.status_code == 403


class TestImportSuite:
    async def test_a_local_json_lines_file_is_imported(self, scoring: Scoring) -> None:
        root = scoring.runtime.settings.suites_directory  # type: ignore[attr-defined]
        name = f"arith-{uuid.uuid4().hex[:6]}.jsonl"
        (root / name).write_text(
            json.dumps({"item_id": "1", "prompt": "1+2?", "answer": 3}) + "\n", encoding="utf-8"
        )
        created = await body(
            await scoring.client.post(
                "/v1/suites/imports",
                json={
                    "format": "jsonl",
                    "path": name,
                    "key": name.removesuffix(".jsonl"),
                    "version": "1",
                    "language": "en",
                    "kind": "numeric",
                },
                headers=scoring.operator(),
            ),
            201,
        )
        assert (created["item_count"], created["source"], created["demo"]) == (1, "jsonl", False)

    async def test_a_path_outside_the_suites_directory_is_refused(self, scoring: Scoring) -> None:
        response = await scoring.client.post(
            "/v1/suites/imports",
            json={
                "format": "jsonl",
                "path": "../../etc/passwd",
                "key": "x",
                "version": "1",
                "language": "en",
                "kind": "exact-match",
            },
            headers=scoring.operator(),
        )
        assert (response.status_code, response.json()["code"]) == (422, "suite-path-refused")
