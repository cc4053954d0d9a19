"""Registry REST: POST/GET /v1/teams, errors as problem+json, roles, idempotency, pagination."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from fmc_common.auth import Role, token_claims
from fmc_common.dev_auth import DevAuthSettings, mint_token
from fmc_common.service_tokens import ServiceTokens
from fmc_common.settings import AuthSettings
from registry.harness import Registry
from support.services import bearer

PROBLEM = "application/problem+json"


@pytest.fixture
def client(registry: Registry) -> httpx.AsyncClient:
    """The module's registry service (one per backend): every test registers uniquely named teams."""
    return registry.client


def team_body(name: str | None = None) -> dict[str, str]:
    return {"name": name or f"Consortium {uuid.uuid4().hex[:6]}", "lead_organisation": "LG AI Research"}


class TestRegisterTeam:
    async def test_operator_registers_a_team(
        self, client: httpx.AsyncClient, auth_settings: AuthSettings
    ) -> None:
        response = await client.post(
            "/v1/teams", json=team_body(), headers=bearer(auth_settings, Role.OPERATOR)
        )
        assert response.status_code == 201
        body = response.json()
        assert body["status"] == "applicant"
        assert uuid.UUID(body["id"])
        assert response.headers["x-correlation-id"]

    async def test_invalid_body_is_422_problem_json_with_the_fields(
        self, client: httpx.AsyncClient, auth_settings: AuthSettings
    ) -> None:
        response = await client.post(
            "/v1/teams", json={"name": "", "extra": 1}, headers=bearer(auth_settings, Role.OPERATOR)
        )
        assert response.status_code == 422
        assert response.headers["content-type"].startswith(PROBLEM)
        problem = response.json()
        assert problem["code"] == "validation-failed"
        locations = {tuple(e["location"]) for e in problem["errors"]}
        assert ("body", "name") in locations
        assert ("body", "lead_organisation") in locations
        assert ("body", "extra") in locations

    async def test_missing_token_is_401(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/teams", json=team_body())
        assert response.status_code == 401
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["code"] == "unauthenticated"
        assert response.headers["www-authenticate"] == "Bearer"

    @pytest.mark.parametrize(
        "token",
        [
            "not-a-jwt",
            jwt.encode(
                {"sub": "x", "role": "operator"}, "wrong-key-wrong-key-wrong-key-32", algorithm="HS256"
            ),
        ],
        ids=["garbage", "wrong-signature"],
    )
    async def test_bad_token_is_401(self, client: httpx.AsyncClient, token: str) -> None:
        response = await client.post(
            "/v1/teams", json=team_body(), headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"

    async def test_expired_token_is_401(self, client: httpx.AsyncClient, auth_settings: AuthSettings) -> None:
        token = mint_token(
            auth_settings,
            subject="old",
            role=Role.OPERATOR,
            now=datetime.now(UTC) - timedelta(days=2),
            ttl=timedelta(hours=1),
        )
        response = await client.post(
            "/v1/teams", json=team_body(), headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401
        assert "expired" in response.json()["detail"]

    async def test_a_token_signed_by_a_service_key_claiming_operator_is_401(
        self, client: httpx.AsyncClient, auth_settings: AuthSettings
    ) -> None:
        assert isinstance(auth_settings, DevAuthSettings)
        service_key = auth_settings.keys.services["tests"]
        forged = service_key.sign(
            token_claims(
                issuer=auth_settings.service_issuer,
                audience="registry",
                subject="service:scoring",
                role=Role.OPERATOR,
                now=datetime.now(UTC),
                ttl=timedelta(minutes=5),
            )
        )
        response = await client.post(
            "/v1/teams", json=team_body(), headers={"Authorization": f"Bearer {forged}"}
        )
        assert response.status_code == 401
        assert response.json()["detail"] == "a service key signs only service tokens"

    @pytest.mark.parametrize(("audience", "status"), [("registry", 403), ("scoring", 401)])
    async def test_a_service_token_is_for_its_audience_only(
        self, client: httpx.AsyncClient, auth_settings: AuthSettings, audience: str, status: int
    ) -> None:
        token = ServiceTokens(auth_settings, "scoring").token_for(audience)
        response = await client.post(
            "/v1/teams", json=team_body(), headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == status  # 403: a service, known, but not an operator

    @pytest.mark.parametrize("role", [Role.EVALUATOR, Role.TEAM, Role.SERVICE])
    async def test_other_roles_are_403(
        self, client: httpx.AsyncClient, auth_settings: AuthSettings, role: Role
    ) -> None:
        team_id = uuid.uuid4() if role == Role.TEAM else None
        response = await client.post(
            "/v1/teams", json=team_body(), headers=bearer(auth_settings, role, team_id)
        )
        assert response.status_code == 403
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["code"] == "forbidden"

    async def test_duplicate_name_is_409(
        self, client: httpx.AsyncClient, auth_settings: AuthSettings
    ) -> None:
        body = team_body()
        headers = bearer(auth_settings, Role.OPERATOR)
        assert (await client.post("/v1/teams", json=body, headers=headers)).status_code == 201
        again = await client.post("/v1/teams", json=body, headers=headers)
        assert again.status_code == 409
        assert again.json()["code"] == "team-name-taken"

    async def test_retry_with_the_same_idempotency_key_returns_the_first_team(
        self, client: httpx.AsyncClient, auth_settings: AuthSettings
    ) -> None:
        headers = bearer(auth_settings, Role.OPERATOR) | {"Idempotency-Key": "k-1"}
        body = team_body()
        first = await client.post("/v1/teams", json=body, headers=headers)
        second = await client.post("/v1/teams", json=body, headers=headers)
        assert first.status_code == second.status_code == 201
        assert first.json() == second.json()
        other = await client.post("/v1/teams", json=team_body(), headers=headers)
        assert other.status_code == 409
        assert other.json()["code"] == "idempotency-key-reused"


class TestReadTeams:
    async def test_a_team_sees_itself_but_not_another_team(
        self, client: httpx.AsyncClient, auth_settings: AuthSettings
    ) -> None:
        operator = bearer(auth_settings, Role.OPERATOR)
        mine = (await client.post("/v1/teams", json=team_body(), headers=operator)).json()
        theirs = (await client.post("/v1/teams", json=team_body(), headers=operator)).json()
        as_team = bearer(auth_settings, Role.TEAM, uuid.UUID(mine["id"]))
        assert (await client.get(f"/v1/teams/{mine['id']}", headers=as_team)).status_code == 200
        assert (await client.get(f"/v1/teams/{theirs['id']}", headers=as_team)).status_code == 403

    async def test_unknown_team_is_404_problem(
        self, client: httpx.AsyncClient, auth_settings: AuthSettings
    ) -> None:
        response = await client.get(f"/v1/teams/{uuid.uuid4()}", headers=bearer(auth_settings, Role.OPERATOR))
        assert response.status_code == 404
        assert response.json()["code"] == "team-not-found"

    async def test_list_is_paginated_without_gaps_or_repeats(
        self, client: httpx.AsyncClient, auth_settings: AuthSettings
    ) -> None:
        operator = bearer(auth_settings, Role.OPERATOR)
        programme = await client.post(
            "/v1/programmes", json={"name": f"P {uuid.uuid4().hex}", "budget_won": 1}, headers=operator
        )
        scope = {"programme_id": programme.json()["id"]}
        created = {
            (await client.post("/v1/teams", json=team_body() | scope, headers=operator)).json()["id"]
            for _ in range(5)
        }
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params = scope | {"limit": "2"} | ({"cursor": cursor} if cursor else {})
            page = (await client.get("/v1/teams", params=params, headers=operator)).json()
            seen.extend(item["id"] for item in page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(created)

    async def test_a_team_may_not_list_teams(
        self, client: httpx.AsyncClient, auth_settings: AuthSettings
    ) -> None:
        response = await client.get("/v1/teams", headers=bearer(auth_settings, Role.TEAM, uuid.uuid4()))
        assert response.status_code == 403


class TestOperations:
    async def test_health_ready_and_metrics(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": True, "consumers": True}
        metrics = await client.get("/metrics")
        assert "fmc_http_requests_total" in metrics.text
