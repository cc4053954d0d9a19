"""Every endpoint of the registry against every kind of caller: allowed, or 401/403 as it must be.

Callers: anonymous, operator, evaluator, service, the team the resource belongs to ("own team") and
another team. "Allowed" means the call got past authorisation (any status but 401 and 403).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI

from fmc_common.auth import Role
from registry.factories import World, programme, stage_to, submission_body, team
from registry.harness import Registry

ANON, OPERATOR, EVALUATOR, SERVICE, OWN, OTHER = (
    "anonymous",
    "operator",
    "evaluator",
    "service",
    "own-team",
    "other-team",
)
CALLERS = (ANON, OPERATOR, EVALUATOR, SERVICE, OWN, OTHER)
EVERYONE = frozenset(CALLERS)
AUTHENTICATED = EVERYONE - {ANON}
OPS = frozenset({OPERATOR})
OPS_SERVICE = frozenset({OPERATOR, SERVICE})
OPS_SERVICE_OWN = frozenset({OPERATOR, SERVICE, OWN})
OPS_OWN = frozenset({OPERATOR, OWN})
OPS_SERVICE_TEAMS = frozenset({OPERATOR, SERVICE, OWN, OTHER})
OPS_TEAMS = frozenset({OPERATOR, OWN, OTHER})


@dataclass(frozen=True)
class Ids:
    programme: uuid.UUID
    stage: uuid.UUID
    draft_stage: uuid.UUID
    own: uuid.UUID
    other: uuid.UUID
    organisation: uuid.UUID
    submission: uuid.UUID
    pool: uuid.UUID
    package: uuid.UUID
    call: uuid.UUID


def _stage_body() -> dict[str, Any]:
    return {
        "number": 9,
        "name": "matrix",
        "planned_advancing": 1,
        "evaluation_starts_at": "2026-01-01T00:00:00Z",
        "evaluation_ends_at": "2026-01-02T00:00:00Z",
        "notification_at": "2026-01-03T00:00:00Z",
    }


def operations(ids: Ids) -> dict[tuple[str, str], tuple[str, dict[str, Any] | None, frozenset[str]]]:
    """(method, route) -> (concrete path, JSON body, callers allowed)."""
    p, s, t, c = ids.programme, ids.stage, ids.own, ids.call
    period = {"period_starts_at": "2030-01-01T00:00:00Z", "period_ends_at": "2030-02-01T00:00:00Z"}
    return {
        ("GET", "/healthz"): ("/healthz", None, EVERYONE),
        ("GET", "/readyz"): ("/readyz", None, EVERYONE),
        ("GET", "/metrics"): ("/metrics", None, EVERYONE),
        ("GET", "/v1/ops/health"): ("/v1/ops/health", None, OPS),
        ("GET", "/v1/public/teams"): ("/v1/public/teams", None, EVERYONE),
        ("POST", "/v1/teams"): ("/v1/teams", {"name": f"m {uuid.uuid4()}", "lead_organisation": "x"}, OPS),
        ("GET", "/v1/teams"): ("/v1/teams", None, OPS_SERVICE),
        ("GET", "/v1/teams/{team_id}"): (f"/v1/teams/{t}", None, OPS_SERVICE_OWN),
        ("POST", "/v1/teams/{team_id}/status"): (
            f"/v1/teams/{ids.other}/status",
            {"to": "withdrawn", "reason": "m"},
            OPS,
        ),
        ("POST", "/v1/organisations"): ("/v1/organisations", {"name": f"org {uuid.uuid4()}"}, OPS),
        ("GET", "/v1/organisations"): ("/v1/organisations", None, OPS_SERVICE),
        ("GET", "/v1/organisations/{organisation_id}"): (
            f"/v1/organisations/{ids.organisation}",
            None,
            OPS_SERVICE,
        ),
        ("GET", "/v1/organisations/{organisation_id}/roles"): (
            f"/v1/organisations/{ids.organisation}/roles",
            None,
            OPS_SERVICE,
        ),
        ("POST", "/v1/programmes/{programme_id}/roles"): (
            f"/v1/programmes/{p}/roles",
            {"organisation_id": str(ids.organisation), "role": "applicant"},
            OPS,
        ),
        ("POST", "/v1/programmes"): (
            "/v1/programmes",
            {"name": f"p {uuid.uuid4()}", "budget_won": 1000},
            OPS,
        ),
        ("GET", "/v1/programmes"): ("/v1/programmes", None, AUTHENTICATED),
        ("GET", "/v1/programmes/{programme_id}"): (f"/v1/programmes/{p}", None, AUTHENTICATED),
        ("POST", "/v1/programmes/{programme_id}/stages"): (f"/v1/programmes/{p}/stages", _stage_body(), OPS),
        ("GET", "/v1/programmes/{programme_id}/stages"): (f"/v1/programmes/{p}/stages", None, AUTHENTICATED),
        ("GET", "/v1/stages/{stage_id}"): (f"/v1/stages/{s}", None, AUTHENTICATED),
        ("POST", "/v1/stages/{stage_id}/status"): (
            f"/v1/stages/{ids.draft_stage}/status",
            {"to": "final"},
            OPS,
        ),
        ("POST", "/v1/programmes/{programme_id}/pools"): (
            f"/v1/programmes/{p}/pools",
            {"kind": "talent", "amount_won": 1},
            OPS,
        ),
        ("POST", "/v1/pools/{pool_id}/allocations"): (
            f"/v1/pools/{ids.pool}/allocations",
            {"team_id": str(t), "amount_won": 1, "purpose": "m"},
            OPS,
        ),
        ("POST", "/v1/programmes/{programme_id}/gpu-packages"): (
            f"/v1/programmes/{p}/gpu-packages",
            {"gpu_model": "H100", "gpu_count": 1024},
            OPS,
        ),
        ("POST", "/v1/programmes/{programme_id}/gpu-supplier-contracts"): (
            f"/v1/programmes/{p}/gpu-supplier-contracts",
            {
                "supplier_organisation_id": str(ids.organisation),
                "gpu_model": "H100",
                "rental_starts_at": "2031-01-01T00:00:00Z",
                "rental_ends_at": "2031-02-01T00:00:00Z",
            },
            OPS,
        ),
        ("POST", "/v1/teams/{team_id}/gpu-allocations"): (
            f"/v1/teams/{t}/gpu-allocations",
            {"package_id": str(ids.package), **period},
            OPS,
        ),
        ("GET", "/v1/programmes/{programme_id}/support"): (f"/v1/programmes/{p}/support", None, OPS_SERVICE),
        ("GET", "/v1/teams/{team_id}/support"): (f"/v1/teams/{t}/support", None, OPS_SERVICE_OWN),
        ("POST", "/v1/stages/{stage_id}/teams/{team_id}/submissions"): (
            f"/v1/stages/{s}/teams/{t}/submissions",
            submission_body(),
            OPS_OWN,
        ),
        ("GET", "/v1/stages/{stage_id}/submissions"): (
            f"/v1/stages/{s}/submissions",
            None,
            OPS_SERVICE_TEAMS,
        ),
        ("GET", "/v1/submissions/{submission_id}"): (
            f"/v1/submissions/{ids.submission}",
            None,
            OPS_SERVICE_OWN,
        ),
        ("POST", "/v1/stages/{stage_id}/teams/{team_id}/statements"): (
            f"/v1/stages/{s}/teams/{t}/statements",
            {"text": "m"},
            OPS_OWN,
        ),
        ("GET", "/v1/stages/{stage_id}/statements"): (f"/v1/stages/{s}/statements", None, OPS_TEAMS),
        ("POST", "/v1/stages/{stage_id}/evaluation"): (f"/v1/stages/{ids.draft_stage}/evaluation", None, OPS),
        ("GET", "/v1/stages/{stage_id}/evaluation-inputs"): (
            f"/v1/stages/{s}/evaluation-inputs",
            None,
            OPS_SERVICE,
        ),
        ("GET", "/v1/programmes/{programme_id}/selection-calls"): (
            f"/v1/programmes/{p}/selection-calls",
            None,
            OPS_SERVICE,
        ),
        ("GET", "/v1/selection-calls/{call_id}"): (f"/v1/selection-calls/{c}", None, OPS_SERVICE),
        ("POST", "/v1/selection-calls/{call_id}/applications"): (
            f"/v1/selection-calls/{c}/applications",
            {"team_id": str(t)},
            OPS_OWN,
        ),
        ("POST", "/v1/selection-calls/{call_id}/selection"): (
            f"/v1/selection-calls/{c}/selection",
            {"team_id": str(t), "reason": "m"},
            OPS,
        ),
        ("GET", "/v1/audit"): ("/v1/audit", None, OPS),
    }


def route_keys(app: FastAPI) -> set[tuple[str, str]]:
    """Every operation the service publishes in its OpenAPI document."""
    return {(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item}


PLACEHOLDER = Ids(*(uuid.UUID(int=i) for i in range(10)))


@pytest.fixture(scope="module")
async def ids(registry: Registry) -> Ids:
    world: World = await programme(registry, stages=(1, 1))
    own = await team(registry, world)
    other = await team(registry, world)
    await stage_to(registry, world.stage_ids[1], "open-for-submissions")
    op = registry.operator()
    client = registry.client
    submission = await client.post(
        f"/v1/stages/{world.stage_ids[1]}/teams/{own}/submissions", json=submission_body(), headers=op
    )
    organisation = await client.post("/v1/organisations", json={"name": f"Org {uuid.uuid4()}"}, headers=op)
    pool = await client.post(
        f"/v1/programmes/{world.programme_id}/pools",
        json={"kind": "joint-data-purchase", "amount_won": 10**9},
        headers=op,
    )
    package = await client.post(
        f"/v1/programmes/{world.programme_id}/gpu-packages",
        json={"gpu_model": "B200", "gpu_count": 512},
        headers=op,
    )
    return Ids(
        programme=world.programme_id,
        stage=world.stage_ids[1],
        draft_stage=world.stage_ids[2],
        own=own,
        other=other,
        organisation=uuid.UUID(organisation.json()["id"]),
        submission=uuid.UUID(submission.json()["id"]),
        pool=uuid.UUID(pool.json()["id"]),
        package=uuid.UUID(package.json()["id"]),
        call=uuid.uuid4(),  # no call exists: authorisation is decided before the lookup
    )


def headers_for(registry: Registry, caller: str, ids: Ids) -> dict[str, str]:
    roles = {OPERATOR: Role.OPERATOR, EVALUATOR: Role.EVALUATOR, SERVICE: Role.SERVICE}
    if caller == ANON:
        return {}
    if caller == OWN:
        return registry.as_team(ids.own)
    if caller == OTHER:
        return registry.as_team(ids.other)
    return registry.as_role(roles[caller])


class TestAuthorisationMatrix:
    async def test_the_matrix_covers_every_endpoint_of_the_service(self, registry: Registry) -> None:
        assert set(operations(PLACEHOLDER)) == route_keys(registry.app)

    @pytest.mark.parametrize("key", sorted(operations(PLACEHOLDER)), ids=lambda k: f"{k[0]} {k[1]}")
    @pytest.mark.parametrize("caller", CALLERS)
    async def test_each_caller_is_allowed_or_refused_as_it_must_be(
        self, registry: Registry, ids: Ids, key: tuple[str, str], caller: str
    ) -> None:
        path, body, allowed = operations(ids)[key]
        response = await registry.client.request(
            key[0], path, json=body, headers=headers_for(registry, caller, ids)
        )
        if caller in allowed:
            assert response.status_code not in (401, 403), response.text
        elif caller == ANON:
            assert response.status_code == 401, response.text
            assert response.json()["code"] == "unauthenticated"
        else:
            assert response.status_code == 403, response.text
            assert response.json()["code"] == "forbidden"
