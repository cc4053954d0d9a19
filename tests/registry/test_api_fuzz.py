"""Property-based fuzz of the whole REST API (schemathesis drives hypothesis from the OpenAPI document):
whatever the request, valid or not, on real or random ids, by any caller, the service answers without
a 5xx, every error is problem+json with a code, and every answer is what the document says for its
status (tests/support/fuzz.py)."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode

from registry.factories import programme, stage_to, submission_body, team
from registry.harness import Registry
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

# The document the fuzz is generated from (the app is only built, never started, here).
OPERATIONS = operations_of(schema_app("registry"))
CASES = cases_of(OPERATIONS)


@pytest.fixture(scope="module")
async def known_ids(registry: Registry) -> dict[str, str]:
    """Real ids for path parameters, so that generated requests also reach the business rules."""
    world = await programme(registry)
    own = await team(registry, world)
    await stage_to(registry, world.stage_ids[1], "open-for-submissions")
    op = registry.operator()
    submission = await registry.client.post(
        f"/v1/stages/{world.stage_ids[1]}/teams/{own}/submissions", json=submission_body(), headers=op
    )
    pool = await registry.client.post(
        f"/v1/programmes/{world.programme_id}/pools", json={"kind": "talent", "amount_won": 10**9}, headers=op
    )
    team_body = (await registry.client.get(f"/v1/teams/{own}", headers=op)).json()
    return {
        "programme_id": str(world.programme_id),
        "stage_id": str(world.stage_ids[1]),
        "team_id": str(own),
        "organisation_id": team_body["lead_organisation_id"],
        "submission_id": submission.json()["id"],
        "pool_id": pool.json()["id"],
        "call_id": str(uuid.uuid4()),
    }


@pytest.mark.parametrize(("operation", "mode"), CASES, ids=case_ids(CASES))
@FUZZ
@given(
    data=st.data(),
    use_known_ids=st.booleans(),
    caller=st.sampled_from(CALLERS),
)
async def test_no_request_makes_the_service_fail(
    registry: Registry,
    known_ids: dict[str, str],
    operation: str,
    mode: GenerationMode,
    data: st.DataObject,
    use_known_ids: bool,
    caller: str,
) -> None:
    case = data.draw(OPERATIONS[operation].as_strategy(generation_mode=mode), label="request")
    headers = caller_headers(registry.auth, caller, known_ids["team_id"])
    await fuzz_once(registry.client, case, headers, known_ids if use_known_ids else None)


@FUZZ
@given(data=st.data())
async def test_a_generated_organisation_can_be_read_back(registry: Registry, data: st.DataObject) -> None:
    create = data.draw(OPERATIONS["POST /v1/organisations"].as_strategy(), label="create")
    read = data.draw(OPERATIONS["GET /v1/organisations/{organisation_id}"].as_strategy(), label="read")
    await create_then_read(
        registry.client,
        create,
        read,
        registry.operator(),
        created_id=lambda organisation: str(organisation["id"]),
        parameter="organisation_id",
    )
