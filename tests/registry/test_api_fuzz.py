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

from fmc_common.auth import Role
from fmc_registry.main import create_app
from fmc_registry.settings import RegistrySettings
from registry.factories import programme, stage_to, submission_body, team
from registry.harness import Registry
from support.fuzz import CALLERS, FUZZ, case_ids, cases_of, fuzz_once, operations_of

# The document the fuzz is generated from (the app is only built, never started, here).
OPERATIONS = operations_of(
    create_app(
        RegistrySettings.model_validate(
            {
                "database_url": "sqlite+aiosqlite:///unused.db",
                "auth": {"jwt_secret": "fuzz-schema-only-not-a-key"},
            }
        )
    )
)
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


def caller_headers(registry: Registry, caller: str, team_id: str) -> dict[str, str]:
    if caller == "anonymous":
        return {}
    if caller == "team":
        return registry.as_team(uuid.UUID(team_id))
    return registry.as_role(Role(caller))


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
    headers = caller_headers(registry, caller, known_ids["team_id"])
    await fuzz_once(registry.client, case, headers, known_ids if use_known_ids else None)
