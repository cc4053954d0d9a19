"""Property-based fuzz of the whole REST API (schemathesis drives hypothesis from the OpenAPI document):
whatever the request, valid or not, on real or random ids, by any caller, the service answers without
a 5xx, and every error is problem+json with a code."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from schemathesis.generation.case import Case
from schemathesis.schemas import APIOperation

from fmc_common.auth import Role
from fmc_registry.main import create_app
from fmc_registry.settings import RegistrySettings
from registry.factories import programme, stage_to, submission_body, team
from registry.harness import Registry

# The document the fuzz is generated from (the app is only built, never started, here).
SCHEMA = schemathesis.openapi.from_dict(
    create_app(
        RegistrySettings.model_validate(
            {
                "database_url": "sqlite+aiosqlite:///unused.db",
                "auth": {"jwks": '{"keys": []}'},
            }
        )
    ).openapi()
)


def _operations() -> dict[str, APIOperation[Any, Any, Any, Any]]:
    operations = {}
    for result in SCHEMA.get_all_operations():
        assert isinstance(result, Ok), result  # the document itself must be valid
        operation = result.ok()
        operations[f"{operation.method.upper()} {operation.path}"] = operation
    return operations


OPERATIONS = _operations()
# Negative cases exist only where there is something to get wrong: parameters or a body.
CASES = sorted(
    (name, mode)
    for name, op in OPERATIONS.items()
    for mode in GenerationMode
    if mode == GenerationMode.POSITIVE or len(op.path_parameters) + len(op.query) + len(op.body) > 0
)
FUZZ = settings(
    max_examples=20,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


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


def request_of(case: Case[Any], headers: dict[str, str]) -> dict[str, Any]:
    kwargs = case.as_transport_kwargs(base_url="http://service")
    sent = {k: v for k, v in kwargs["headers"].items() if k.lower() != "authorization"} | headers
    request: dict[str, Any] = {"method": kwargs["method"], "url": kwargs["url"], "headers": sent}
    request["params"] = kwargs.get("params") or None
    if "json" in kwargs:
        request["json"] = kwargs["json"]
    elif "data" in kwargs:
        data = kwargs["data"]
        request["content"] = data if isinstance(data, bytes | str) else str(data)
    return request


@pytest.mark.parametrize(("operation", "mode"), CASES, ids=[f"{name} {mode.value}" for name, mode in CASES])
@FUZZ
@given(
    data=st.data(),
    use_known_ids=st.booleans(),
    caller=st.sampled_from(["operator", "team", "service", "evaluator", "anonymous"]),
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
    if use_known_ids and case.path_parameters:
        case.path_parameters = {k: known_ids.get(k, v) for k, v in case.path_parameters.items()}
    response = await registry.client.request(
        **request_of(case, caller_headers(registry, caller, known_ids["team_id"]))
    )
    assert response.status_code < 500, f"{case.as_curl_command()} -> {response.status_code} {response.text}"
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), response.text
        assert response.json()["code"]
