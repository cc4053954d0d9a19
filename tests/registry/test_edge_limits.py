"""Hostile or careless requests get a clear 4xx problem before any work, never a 500."""

from __future__ import annotations

import tracemalloc
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from fmc_common.auth import Role
from fmc_common.dev_auth import sign_as_issuer
from fmc_common.pagination import encode_cursor
from fmc_common.web.problems import PROBLEM_JSON
from registry.harness import Registry

MiB = 1024 * 1024


@pytest.fixture
def client(registry: Registry) -> httpx.AsyncClient:
    return registry.client


def signed(registry: Registry, **claims: object) -> dict[str, str]:
    now = int(datetime.now(UTC).timestamp())
    auth = registry.auth
    body = {
        "iss": auth.issuer,
        "aud": auth.audience,
        "iat": now,
        "exp": now + 300,
        "sub": "someone",
        **claims,
    }
    token = sign_as_issuer(auth, body)
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert isinstance(body["status"], int)


class TestBodySize:
    async def test_a_50_mib_body_without_a_token_is_refused_413_before_it_is_read(
        self, client: httpx.AsyncClient
    ) -> None:
        huge = b"{" + b" " * (50 * MiB) + b"}"
        tracemalloc.start()
        try:
            response = await client.post(
                "/v1/teams", content=huge, headers={"content-type": "application/json"}
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert_problem(response, 413, "payload-too-large")
        assert peak < 8 * MiB  # the body was never copied, let alone parsed

    async def test_a_streamed_body_without_a_length_is_cut_off_at_the_limit(
        self, client: httpx.AsyncClient
    ) -> None:
        sent = 0

        async def chunks() -> AsyncIterator[bytes]:
            nonlocal sent
            yield b'{"name": "'
            for _ in range(64):
                sent += MiB
                yield b"x" * MiB
            yield b'"}'

        response = await client.post(
            "/v1/teams", content=chunks(), headers={"content-type": "application/json"}
        )
        assert_problem(response, 413, "payload-too-large")

    async def test_a_body_under_the_limit_still_reaches_authentication(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post("/v1/teams", json={"name": "x" * 1000, "lead_organisation": "Upstage"})
        assert_problem(response, 401, "unauthenticated")


class TestPathsAndCursors:
    async def test_an_over_long_path_is_414(self, client: httpx.AsyncClient) -> None:
        assert_problem(await client.get("/v1/teams/" + "a" * 10_000), 414, "uri-too-long")

    @pytest.mark.parametrize(
        "cursor", [encode_cursor(str(2**70)), encode_cursor("-1"), encode_cursor("1e9"), "%%%"]
    )
    async def test_a_cursor_we_never_issued_is_a_422(self, registry: Registry, cursor: str) -> None:
        response = await registry.client.get(
            "/v1/audit", params={"cursor": cursor}, headers=registry.operator()
        )
        assert_problem(response, 422, "validation-failed")

    @pytest.mark.parametrize("name", ["entity_id", "entity_type"])
    async def test_a_nul_character_in_an_audit_filter_is_a_422(self, registry: Registry, name: str) -> None:
        """Found by test_api_fuzz.py: PostgreSQL cannot compare text with NUL, and answered 500."""
        response = await registry.client.get("/v1/audit", params={name: "a\x00"}, headers=registry.operator())
        assert_problem(response, 422, "validation-failed")

    async def test_an_integer_amount_passes_validation(self, registry: Registry) -> None:
        body = {"kind": "joint-data-purchase", "amount_won": 1000}
        response = await registry.client.post(
            f"/v1/programmes/{uuid.uuid4()}/pools", json=body, headers=registry.as_role(Role.OPERATOR)
        )
        assert response.status_code == 404  # validated, then the programme is not found


class TestTokenClaims:
    @pytest.mark.parametrize(
        "claims",
        [
            {"role": "team", "team_id": 12345},
            {"role": "team", "team_id": ["not", "a", "uuid"]},
            {"role": "team", "team_id": "not-a-uuid"},
            {"role": 3},
            {"role": "operator", "sub": 42},
            {"role": "operator", "sub": ""},
        ],
    )
    async def test_a_signed_token_of_an_unusual_shape_is_a_401(
        self, registry: Registry, claims: dict[str, object]
    ) -> None:
        response = await registry.client.get(f"/v1/teams/{uuid.uuid4()}", headers=signed(registry, **claims))
        assert_problem(response, 401, "unauthenticated")


class TestStrictNumbers:
    @pytest.mark.parametrize("amount", ["true", '"1000"', "1.5", "Infinity", "NaN"])
    async def test_money_is_an_integer_not_a_bool_a_string_a_fraction_or_infinite(
        self, registry: Registry, amount: str
    ) -> None:
        body = '{"kind": "joint-data-purchase", "amount_won": ' + amount + "}"
        response = await registry.client.post(
            f"/v1/programmes/{uuid.uuid4()}/pools",
            content=body,
            headers=registry.as_role(Role.OPERATOR) | {"content-type": "application/json"},
        )
        assert_problem(response, 422, "validation-failed")

    async def test_an_integer_amount_passes_validation(self, registry: Registry) -> None:
        body = {"kind": "joint-data-purchase", "amount_won": 1000}
        response = await registry.client.post(
            f"/v1/programmes/{uuid.uuid4()}/pools", json=body, headers=registry.as_role(Role.OPERATOR)
        )
        assert response.status_code == 404  # validated, then the programme is not found
