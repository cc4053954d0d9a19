"""Property-based fuzz of the inference gateway's REST API (schemathesis, tests/support/fuzz.py):
whatever the request, valid or not, on real or random ids, by any caller, the gateway answers without
a 5xx and as its OpenAPI document says; and a run a generated request creates can be read back.

The gateway runs its real lifespan on both backends, allowed to connect to the session's Triton only
(docs/security.md): a generated endpoint names it, or another address, which must be refused (422).
Its timeouts are short: what matters here is the edge."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode

from fmc_common.auth import Role
from fmc_common.settings import AuthSettings
from fmc_devrunner.ports import free_port
from fmc_devrunner.triton import TritonProcess
from fmc_gateway.main import create_app
from fmc_gateway.settings import GatewaySettings
from gateway.conftest import FAST
from gateway.helpers import request_run, run_body, write_items
from support.databases import DatabaseFactory, postgres_available
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
from support.kafka import broker_settings
from support.services import bearer, serving

pytestmark = [pytest.mark.broker]

OPERATIONS = operations_of(schema_app("inference-gateway"))
CASES = cases_of(OPERATIONS)
# Generated endpoints are random addresses: fail fast instead of waiting on them.
SHORT: dict[str, Any] = {
    "readiness_timeout_seconds": 0.2,
    "triton_timeout_seconds": 0.2,
    "arena_timeout_seconds": 0.3,
}


@dataclass
class Gateway:
    client: httpx.AsyncClient
    auth: AuthSettings
    items: Path
    triton: TritonProcess

    def endpoint_url(self, protocol: object) -> str:
        """The session Triton's address for a (generated) protocol: the only one this gateway allows."""
        return self.triton.http_url if protocol == "http" else self.triton.grpc_url


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def gateway(
    request: pytest.FixtureRequest,
    broker: str,
    auth_settings: AuthSettings,
    tmp_path_factory: pytest.TempPathFactory,
    triton: TritonProcess,
) -> AsyncIterator[Gateway]:
    """One gateway per backend for the whole module (a start per example would dominate its time)."""
    backend = str(request.param)
    if backend == "postgres" and not await postgres_available():
        if os.environ.get("FMC_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is not reachable")
        pytest.skip("PostgreSQL is not reachable")
    factory = DatabaseFactory(backend, tmp_path_factory.mktemp("gateway-fuzz"))
    items = tmp_path_factory.mktemp("items")
    values: dict[str, Any] = {
        "database_url": await factory.create("gateway"),
        "kafka": broker_settings(broker),
        "auth": auth_settings,
        "grpc_port": free_port(),
        "items_directory": items,
        "triton_url": triton.grpc_url,
        "triton_allowed_hosts": [triton.http_url],
    }
    settings = GatewaySettings(**(values | FAST | SHORT))
    try:
        async with serving(create_app(settings)) as client:
            yield Gateway(client, auth_settings, items, triton)
    finally:
        await factory.drop_all()


@pytest.fixture(scope="module")
async def known_ids(gateway: Gateway) -> dict[str, str]:
    """A real run (of a model the Triton does not have), so that generated reads also find something."""
    path, sha256 = write_items(gateway.items, 3)
    team_id = uuid.uuid4()
    body = run_body(path, 3, gateway.triton.grpc_url, model="no-such-lm", sha256=sha256, team_id=team_id)
    run = await request_run(gateway.client, gateway.auth, body)
    return {"run_id": str(run["id"]), "team_id": str(team_id), "battle_id": str(uuid.uuid4())}


@pytest.mark.parametrize(("operation", "mode"), CASES, ids=case_ids(CASES))
@FUZZ
@given(data=st.data(), use_known_ids=st.booleans(), caller=st.sampled_from(CALLERS))
async def test_no_request_makes_the_gateway_fail(
    gateway: Gateway,
    known_ids: dict[str, str],
    operation: str,
    mode: GenerationMode,
    data: st.DataObject,
    use_known_ids: bool,
    caller: str,
) -> None:
    case = data.draw(OPERATIONS[operation].as_strategy(generation_mode=mode), label="request")
    headers = caller_headers(gateway.auth, caller, known_ids["team_id"])
    await fuzz_once(gateway.client, case, headers, known_ids if use_known_ids else None)


@FUZZ
@given(data=st.data())
async def test_a_generated_run_can_be_read_back(gateway: Gateway, data: st.DataObject) -> None:
    create = data.draw(OPERATIONS["POST /v1/runs"].as_strategy(), label="create")
    read = data.draw(OPERATIONS["GET /v1/runs/{run_id}"].as_strategy(), label="read")
    # Only configured places may be named as items sources and Triton servers (docs/security.md): a
    # generated one never is, so the generated run names a file below the gateway's items directory
    # and the session's Triton.
    body = create.body
    items = body.get("items") if isinstance(body, dict) else None
    if isinstance(items, dict):
        items["uri"] = (gateway.items / f"{uuid.uuid4().hex}.jsonl").as_uri()
    endpoint = body.get("endpoint") if isinstance(body, dict) else None
    if isinstance(endpoint, dict):
        endpoint["url"] = gateway.endpoint_url(endpoint.get("protocol"))
    await create_then_read(
        gateway.client,
        create,
        read,
        bearer(gateway.auth, Role.SERVICE),
        created_id=lambda run: str(run["id"]),
        parameter="run_id",
    )
