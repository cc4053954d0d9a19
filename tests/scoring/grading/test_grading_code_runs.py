"""Executed code through the real grading path of a run (SQLite and PostgreSQL): a code suite created
over the API, runs planned from the stage's start, graded from the teams' responses in the sandbox,
each item's reason stored, the suite's accuracy the mean pass@1."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from fmc_scoring.grading import repository
from fmc_scoring.grading import service as grading
from fmc_scoring.planning import repository as planning
from scoring.harness import Scoring, StageWorld, body, criteria_body, new_stage, start_evaluation

pytestmark = [pytest.mark.broker, pytest.mark.triton]

ITEMS: list[dict[str, Any]] = [
    {
        "item_id": "add",
        "prompt": "Write a Python function add(a, b) returning their sum.",
        "tests": "assert add(1, 2) == 3\nassert add(-5, 5) == 0\n",
        "entry_point": "add",
    },
    {
        "item_id": "reverse",
        "prompt": "Write a Python function reverse(s) returning the string reversed.",
        "tests": "assert candidate('abc') == 'cba'\nassert candidate('') == ''\n",
        "entry_point": "reverse",
    },
    {
        "item_id": "is-even",
        "prompt": "Write a Python function is_even(n).",
        "tests": "assert is_even(4)\nassert not is_even(7)\n",
    },
]
RIGHT = {
    "add": "Sure:\n```python\ndef add(a, b):\n    return a + b\n```\nThis adds them.",
    "reverse": "def reverse(s):\n    return s[::-1]",
    "is-even": "```python\ndef is_even(n):\n    return n % 2 == 0\n```",
}
WRONG = {
    "add": "```python\ndef add(a, b):\n    return a - b\n```",
    "reverse": "You can reverse a string with slicing.",
    "is-even": (
        "```python\nimport socket\nsocket.create_connection(('127.0.0.1', 5432), timeout=1)\n"
        "def is_even(n):\n    return n % 2 == 0\n```"
    ),
}


async def code_stage(scoring: Scoring) -> tuple[StageWorld, dict[str, Any]]:
    suite = await body(
        await scoring.client.post(
            "/v1/suites",
            json={
                "key": f"code-{uuid.uuid4().hex[:8]}",
                "version": "1.0.0",
                "title": "Small functions",
                "language": "en",
                "kind": "code",
                "items": ITEMS,
            },
            headers=scoring.operator(),
        ),
        201,
    )
    world = await new_stage(scoring, ["Upstage", "NC AI"])
    await body(
        await scoring.client.put(
            f"/v1/stages/{world.stage_id}/criteria",
            json=criteria_body([uuid.UUID(suite["id"])]),
            headers=scoring.operator(),
        )
    )
    await start_evaluation(scoring, world)
    return world, suite


async def grade_answers(scoring: Scoring, world: StageWorld) -> dict[str, uuid.UUID]:
    """Upstage answers right, NC AI wrong; the run id of each."""
    answers = {world.teams["Upstage"]: RIGHT, world.teams["NC AI"]: WRONG}
    run_ids = {}
    async with scoring.ctx() as ctx:
        for run in await planning.runs_of_stage(ctx.session, world.stage_id):
            texts = answers[run.team_id]
            responses = [grading.Response(item_id, text) for item_id, text in texts.items()]
            await grading.grade_run(ctx, run, responses, "0" * 64, rounds=200)
            run_ids["Upstage" if texts is RIGHT else "NC AI"] = run.id
    return run_ids


class TestGradingCodeRuns:
    async def test_right_and_wrong_code_are_graded_with_their_reasons(self, scoring: Scoring) -> None:
        world, _ = await code_stage(scoring)
        run_ids = await grade_answers(scoring, world)
        async with scoring.ctx() as ctx:
            right = await repository.item_grades(ctx.session, run_ids["Upstage"])
            wrong = await repository.item_grades(ctx.session, run_ids["NC AI"])
            grades = {team: await repository.grade(ctx.session, run) for team, run in run_ids.items()}
        assert [(g.item_id, g.correct, g.reason, g.score) for g in right] == [
            ("add", True, "correct", 1.0),
            ("reverse", True, "correct", 1.0),
            ("is-even", True, "correct", 1.0),
        ]
        assert [(g.item_id, g.correct, g.reason, g.score) for g in wrong] == [
            ("add", False, "tests-failed", 0.0),
            ("reverse", False, "no-code-found", 0.0),
            ("is-even", False, "runtime-error", 0.0),
        ]
        upstage, nc_ai = grades["Upstage"], grades["NC AI"]
        assert upstage is not None
        assert nc_ai is not None
        assert (upstage.accuracy, nc_ai.accuracy) == (1.0, 0.0)

    async def test_the_hidden_tests_are_not_in_the_items_the_gateway_reads(self, scoring: Scoring) -> None:
        world, _ = await code_stage(scoring)
        async with scoring.ctx() as ctx:
            run = (await planning.runs_of_stage(ctx.session, world.stage_id))[0]
        served = await scoring.client.get(f"/v1/runs/{run.id}/items", headers=scoring.service())
        assert served.status_code == 200
        assert b"Write a Python function add" in served.content
        assert b"assert" not in served.content

    async def test_a_regrade_from_the_stored_responses_gives_the_same_grades(self, scoring: Scoring) -> None:
        world, _ = await code_stage(scoring)
        run_ids = await grade_answers(scoring, world)
        async with scoring.ctx() as ctx:
            before = [
                (g.item_id, g.reason) for g in await repository.item_grades(ctx.session, run_ids["NC AI"])
            ]
            run = next(
                r
                for r in await planning.runs_of_stage(ctx.session, world.stage_id)
                if r.id == run_ids["NC AI"]
            )
            await grading.regrade(ctx, run, rounds=200)
            after = [(g.item_id, g.reason) for g in await repository.item_grades(ctx.session, run.id)]
        assert after == before

    async def test_a_code_suite_with_tests_that_do_not_parse_is_refused(self, scoring: Scoring) -> None:
        broken = [{**ITEMS[0], "tests": "assert add(1, 2 == 3\n"}]
        response = await scoring.client.post(
            "/v1/suites",
            json={
                "key": "code-broken",
                "version": "1.0.0",
                "title": "Broken",
                "language": "en",
                "kind": "code",
                "items": broken,
            },
            headers=scoring.operator(),
        )
        assert response.status_code == 422
        assert response.json()["code"] == "suite-invalid"
        assert "do not parse as Python" in response.json()["detail"]


class TestCodeErrata:
    async def test_corrected_tests_reach_the_grades_on_a_regrade(self, scoring: Scoring) -> None:
        world, suite = await code_stage(scoring)
        path = f"/v1/suites/{suite['id']}/key-revisions"
        wrong_tests = {"item_id": "add", "tests": "assert add(1, 2) == 4\n", "entry_point": "add"}
        posted = await scoring.client.post(path, json=erratum(wrong_tests), headers=scoring.operator())
        await body(posted, 201)
        run_ids = await grade_answers(scoring, world)
        async with scoring.ctx() as ctx:
            first = (await repository.item_grades(ctx.session, run_ids["Upstage"]))[0]
        assert (first.item_id, first.reason) == ("add", "tests-failed")

        fixed = {"item_id": "add", "tests": "assert add(1, 2) == 3\n", "entry_point": "add"}
        await body(await scoring.client.post(path, json=erratum(fixed), headers=scoring.operator()), 201)
        async with scoring.ctx() as ctx:
            runs = await planning.runs_of_stage(ctx.session, world.stage_id)
            run = next(r for r in runs if r.id == run_ids["Upstage"])
            grade = await grading.regrade(ctx, run, rounds=200)
            again = (await repository.item_grades(ctx.session, run.id))[0]
        assert (again.item_id, again.reason) == ("add", "correct")
        assert grade is not None
        assert grade.key_revision == 3

    async def test_an_erratum_whose_tests_do_not_parse_is_refused(self, scoring: Scoring) -> None:
        _, suite = await code_stage(scoring)
        broken = {"item_id": "add", "tests": "assert add(1, 2 == 3\n"}
        response = await scoring.client.post(
            f"/v1/suites/{suite['id']}/key-revisions", json=erratum(broken), headers=scoring.operator()
        )
        assert response.status_code == 422
        assert response.json()["code"] == "erratum-invalid"


def erratum(*items: dict[str, Any]) -> dict[str, Any]:
    return {"reason": "the tests expected a wrong sum", "items": list(items)}
