"""Property-based fuzz of the grievance service's REST API (schemathesis, tests/support/fuzz.py):
whatever the request, valid or not, on real or random ids, by any caller, the service answers
without a 5xx and as its OpenAPI document says; and a notification a generated request makes can be
read back.

Runs on the package's shared service (its real lifespan, both backends, a manual clock)."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode

from fmc_common.auth import Role
from grievance.harness import NOTIFIED_AT, Grievance
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

OPERATIONS = operations_of(schema_app("grievance"))
CASES = cases_of(OPERATIONS)


@pytest.fixture(scope="module")
async def world(shared_service: Grievance) -> tuple[Grievance, dict[str, str]]:
    """The shared service on a stage of this module's own, with a notified team and its objection;
    their ids for path parameters, so that generated requests also reach the business rules."""
    shared_service.clock.set(NOTIFIED_AT)  # other modules move the shared clock; the window is open now
    grievance = shared_service.for_new_stage()
    team_id = uuid.uuid4()
    [notification] = await grievance.notify([team_id])
    objection = await grievance.file(team_id)
    assert objection.status_code == 201, objection.text
    return grievance, {
        "team_id": str(team_id),
        "notification_id": str(notification["id"]),
        "objection_id": str(objection.json()["id"]),
        "decision_kind": "stage-result",
        "decision_id": str(grievance.stage_id),
    }


@pytest.mark.parametrize(("operation", "mode"), CASES, ids=case_ids(CASES))
@FUZZ
@given(data=st.data(), use_known_ids=st.booleans(), caller=st.sampled_from(CALLERS))
async def test_no_request_makes_the_grievance_service_fail(
    world: tuple[Grievance, dict[str, str]],
    operation: str,
    mode: GenerationMode,
    data: st.DataObject,
    use_known_ids: bool,
    caller: str,
) -> None:
    grievance, known_ids = world
    case = data.draw(OPERATIONS[operation].as_strategy(generation_mode=mode), label="request")
    headers = caller_headers(grievance.auth, caller, known_ids["team_id"])
    await fuzz_once(grievance.client, case, headers, known_ids if use_known_ids else None)


@FUZZ
@given(data=st.data())
async def test_a_generated_notification_can_be_read_back(
    world: tuple[Grievance, dict[str, str]], data: st.DataObject
) -> None:
    grievance, _ = world
    create = data.draw(OPERATIONS["POST /v1/notifications"].as_strategy(), label="create")
    read = data.draw(OPERATIONS["GET /v1/notifications/{notification_id}"].as_strategy(), label="read")
    await create_then_read(
        grievance.client,
        create,
        read,
        bearer(grievance.auth, Role.OPERATOR),
        created_id=lambda made: str(made["items"][0]["id"]),
        parameter="notification_id",
    )
