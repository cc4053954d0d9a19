"""The registry under test, as the test modules see it, and tiny helpers shared by them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from fmc_common.auth import Role
from fmc_common.settings import AuthSettings
from fmc_registry.seed import SeedResult, load_seed_programme
from support.services import bearer


@dataclass
class Registry:
    client: httpx.AsyncClient
    app: FastAPI
    auth: AuthSettings
    grpc_port: int
    database_url: str
    bootstrap: str

    def operator(self) -> dict[str, str]:
        return bearer(self.auth, Role.OPERATOR, subject="operator-kim")

    def as_role(self, role: Role, team_id: uuid.UUID | None = None) -> dict[str, str]:
        return bearer(self.auth, role, team_id)

    def as_team(self, team_id: uuid.UUID) -> dict[str, str]:
        return bearer(self.auth, Role.TEAM, team_id, subject=f"team-{team_id}")


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


async def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def seeded(registry: Registry) -> SeedResult:
    return await load_seed_programme(
        registry.client, registry.operator(), suffix=f" [{uuid.uuid4().hex[:6]}]"
    )
