"""What the services' API fuzz tests share (tests/<service>/test_api_fuzz.py).

schemathesis turns a service's own OpenAPI document into hypothesis strategies; each test draws
requests (valid and invalid, on real or random ids, by any kind of caller), sends them to the
service running its real lifespan, and holds every answer to two rules: never a 5xx, and never an
answer the document does not describe (status code, content type, body schema). A refusal is
problem+json with a stable ``code``, whatever it is.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, assume, settings
from schemathesis import GenerationMode
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation.case import Case
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from fmc_common.auth import Role
from fmc_common.contracts.openapi import SERVICES, build_app
from fmc_common.settings import AuthSettings
from support.services import bearer

Operation = APIOperation[Any, Any, Any, Any]

# Bounded and repeatable: the same examples on every CI run, a few seconds per operation.
FUZZ = settings(
    max_examples=20,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)

# Who may send a request (anonymous: no token at all).
CALLERS = ["operator", "team", "service", "evaluator", "anonymous"]

# The answer must be what the document says, not just "not a crash" (not_a_server_error first).
CONFORMANCE: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def schema_app(service: str) -> FastAPI:
    """The service's app as the contracts exporter builds it (schema-only settings, never started)."""
    app: FastAPI = build_app(next(found for found in SERVICES if found.name == service))
    return app


def operations_of(app: FastAPI) -> dict[str, Operation]:
    """Every operation of the app's OpenAPI document, by "METHOD /path" (the app is built, not started)."""
    schema = schemathesis.openapi.from_dict(app.openapi())
    found = {}
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the document itself must be valid
        operation = result.ok()
        found[f"{operation.method.upper()} {operation.path}"] = operation
    return found


def cases_of(operations: Mapping[str, Operation]) -> list[tuple[str, GenerationMode]]:
    """(operation, mode) pairs to fuzz: negative cases only where there is something to get wrong."""
    return sorted(
        (name, mode)
        for name, op in operations.items()
        for mode in GenerationMode
        if mode == GenerationMode.POSITIVE or len(op.path_parameters) + len(op.query) + len(op.body) > 0
    )


def case_ids(cases: list[tuple[str, GenerationMode]]) -> list[str]:
    return [f"{name} {mode.value}" for name, mode in cases]


def with_known_ids(case: Case[Any], known: Mapping[str, str]) -> None:
    """Replace generated path parameters by ids of real objects, so that requests reach the rules."""
    if case.path_parameters:
        case.path_parameters = {k: known.get(k, v) for k, v in case.path_parameters.items()}


def request_of(case: Case[Any], headers: Mapping[str, str]) -> dict[str, Any]:
    """httpx keyword arguments for the case, with the caller's headers instead of any generated token."""
    kwargs = case.as_transport_kwargs(base_url="http://service")
    sent = {k: v for k, v in kwargs["headers"].items() if k.lower() != "authorization"} | dict(headers)
    request: dict[str, Any] = {"method": kwargs["method"], "url": kwargs["url"], "headers": sent}
    request["params"] = kwargs.get("params") or None
    if "json" in kwargs:
        request["json"] = kwargs["json"]
    elif "data" in kwargs:
        data = kwargs["data"]
        request["content"] = data if isinstance(data, bytes | str) else str(data)
    return request


async def send(client: httpx.AsyncClient, case: Case[Any], headers: Mapping[str, str]) -> httpx.Response:
    return await client.request(**request_of(case, headers))


def check_response(case: Case[Any], response: httpx.Response) -> None:
    """No 5xx, every refusal problem+json with a code, and the answer as documented for its status.

    One 5xx is an answer, not a failure: a 503 the operation documents, which says that a server
    the request names or needs (a Triton, the inference gateway) did not answer."""
    status = response.status_code
    unavailable = status == 503 and "503" in case.operation.responses.status_codes
    assert status < 500 or unavailable, f"{case.as_curl_command()} -> {status} {response.text}"
    if status >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), response.text
        problem = response.json()
        assert problem["code"], response.text
        assert problem["status"] == status, response.text
    checks = CONFORMANCE[1:] if unavailable else CONFORMANCE
    case.validate_response(response, checks=checks)


async def fuzz_once(
    client: httpx.AsyncClient,
    case: Case[Any],
    headers: Mapping[str, str],
    known: Mapping[str, str] | None = None,
) -> httpx.Response:
    """Send one drawn case (on real ids when given) and check its answer."""
    if known is not None:
        with_known_ids(case, known)
    response = await send(client, case, headers)
    check_response(case, response)
    return response


def caller_headers(auth: AuthSettings, caller: str, team_id: uuid.UUID | str) -> dict[str, str]:
    """The token of one of :data:`CALLERS`; a team caller is the team ``team_id``."""
    if caller == "anonymous":
        return {}
    if caller == "team":
        team = uuid.UUID(str(team_id))
        return bearer(auth, Role.TEAM, team, subject=f"team-{team}")
    return bearer(auth, Role(caller))


async def create_then_read(
    client: httpx.AsyncClient,
    create: Case[Any],
    read: Case[Any],
    headers: Mapping[str, str],
    *,
    created_id: Callable[[Any], str],
    parameter: str,
    read_field: str = "id",
) -> None:
    """The stateful step the documents' missing links would describe: what a generated request
    created can be read back, through the generated read of the same object.

    ``created_id`` takes the new object's id from the creation's answer; the read gets it as its
    path ``parameter`` and must answer it as ``read_field``. Creations the service refuses are not
    counted (hypothesis gives up with Unsatisfiable if none succeeds: the sequence did run)."""
    created = await send(client, create, headers)
    check_response(create, created)
    assume(created.status_code in (200, 201))
    identifier = created_id(created.json())
    read.path_parameters = {**(read.path_parameters or {}), parameter: identifier}
    answer = await send(client, read, headers)
    check_response(read, answer)
    assert answer.status_code == 200, f"{read.as_curl_command()} -> {answer.status_code} {answer.text}"
    assert str(answer.json()[read_field]) == identifier, answer.text
