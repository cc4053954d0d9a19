"""Running a service in-process (its real lifespan: migrations, broker, relay, consumers, gRPC)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI

from fmc_common.auth import Role
from fmc_common.dev_auth import mint_token
from fmc_common.settings import AuthSettings


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as client,
    ):
        yield client


def bearer(
    auth: AuthSettings, role: Role, team_id: uuid.UUID | None = None, subject: str = "tester"
) -> dict[str, str]:
    token = mint_token(auth, subject=subject, role=role, now=datetime.now(UTC), team_id=team_id)
    return {"Authorization": f"Bearer {token}"}
