"""Property-based fuzz of scoring's REST API (schemathesis, tests/support/fuzz.py): whatever the
request, valid or not, on real or random ids, by any caller, scoring answers without a 5xx and as its
OpenAPI document says; and a panel a generated request sets can be read back.

Scoring runs its real lifespan on both backends, beside the real gateway the package's fixture starts."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode

from fmc_common.auth import Role
from scoring.harness import Scoring, demo_suites, new_stage
from support.fuzz import (
    CALLERS,
    FUZZ,
    caller_headers,
    case_ids,
    cases_of,
    create_then_read,
    fuzz_once,
    operations_of,
    schema_app,
)
from support.services import bearer

pytestmark = [pytest.mark.broker]

OPERATIONS = operations_of(schema_app("scoring"))
CASES = cases_of(OPERATIONS)


@pytest.fixture(scope="package")
async def known_ids(scoring: Scoring) -> dict[str, str]:
    """Real ids for path parameters (the demo suites, a stage with a team), so that generated
    requests also reach the business rules."""
    suites = await demo_suites(scoring)
    world = await new_stage(scoring, ["Fuzz Team"])
    [team_id] = world.teams.values()
    return {
        "suite_id": str(next(iter(suites.values()))["id"]),
        "stage_id": str(world.stage_id),
        "team_id": str(team_id),
        "version": "1",
    }


@pytest.mark.parametrize(("operation", "mode"), CASES, ids=case_ids(CASES))
@FUZZ
@given(data=st.data(), use_known_ids=st.booleans(), caller=st.sampled_from(CALLERS))
async def test_no_request_makes_scoring_fail(
    scoring: Scoring,
    known_ids: dict[str, str],
    operation: str,
    mode: GenerationMode,
    data: st.DataObject,
    use_known_ids: bool,
    caller: str,
) -> None:
    case = data.draw(OPERATIONS[operation].as_strategy(generation_mode=mode), label="request")
    headers = caller_headers(scoring.auth, caller, known_ids["team_id"])
    await fuzz_once(scoring.client, case, headers, known_ids if use_known_ids else None)


@FUZZ
@given(data=st.data())
async def test_a_generated_panel_can_be_read_back(scoring: Scoring, data: st.DataObject) -> None:
    create = data.draw(OPERATIONS["PUT /v1/stages/{stage_id}/panel"].as_strategy(), label="create")
    create.path_parameters = {"stage_id": str(uuid.uuid4())}  # a stage of this example's own
    read = data.draw(OPERATIONS["GET /v1/stages/{stage_id}/panel"].as_strategy(), label="read")
    await create_then_read(
        scoring.client,
        create,
        read,
        bearer(scoring.auth, Role.OPERATOR),
        created_id=lambda panel: str(panel["stage_id"]),
        parameter="stage_id",
        read_field="stage_id",
    )
