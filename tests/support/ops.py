"""A real service (grievance) whose messaging health is known: for GET /v1/ops/health and the console."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from fmc_common import db
from fmc_common.clock import ManualClock
from fmc_common.events.registry import TeamRegistered
from fmc_common.runtime import ServiceRuntime
from fmc_common.settings import AuthSettings
from fmc_devrunner.ports import free_port
from fmc_grievance.main import create_app
from fmc_grievance.settings import GrievanceSettings
from support.kafka import broker_settings

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


@asynccontextmanager
async def grievance_without_relay(
    database_url: str, broker: str, auth: AuthSettings
) -> AsyncIterator[FastAPI]:
    """Started for real (migrations, consumers); the relay is off, so the outbox keeps what goes in."""
    settings = GrievanceSettings(
        database_url=database_url,
        kafka=broker_settings(broker),
        auth=auth,
        grpc_port=free_port(),
        relay_in_process=False,
        shutdown_grace_seconds=5,
    )
    app = create_app(settings, ManualClock(NOW))
    async with app.router.lifespan_context(app):
        yield app


async def backlog_and_letters(runtime: ServiceRuntime, events: int = 2, letters: int = 7) -> None:
    """``events`` waiting in the outbox and ``letters`` dead letters noted as the consumers note them
    (the newest a schema violation)."""
    table = runtime.tables.dead_letters
    async with db.transaction(runtime.sessions) as session:
        for n in range(events):
            event = TeamRegistered(
                team_id=uuid.uuid4(), name=f"t{n}", lead_organisation="Org", registered_at=NOW
            )
            await runtime.outbox.add(session, event)
        for n in range(letters):
            await session.execute(
                table.insert().values(
                    consumer="grievance.stage-results",
                    source_topic="fmc.scoring.v1",
                    reason="schema-violation" if n == letters - 1 else "handler-rejected",
                    dead_letter_topic="fmc.grievance.dlq.v1",
                    at=NOW + timedelta(minutes=n),
                )
            )
