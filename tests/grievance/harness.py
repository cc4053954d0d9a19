"""Grievance test harness: the real service (broker, database on both backends) on a manual clock."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI

from fmc_common.auth import Role
from fmc_common.clock import SEOUL, ManualClock
from fmc_common.events.envelope import Envelope
from fmc_common.events.topics import Topic
from fmc_common.runtime import ServiceRuntime
from fmc_common.settings import AuthSettings
from fmc_grievance.closing.scheduler import ClosingScheduler
from fmc_grievance.main import create_app
from fmc_grievance.settings import GrievanceSettings
from support.services import bearer, serving

# Notified on 1 December 2026 at 10:00 in Seoul: with 10 days, the window's last day is 11 December.
NOTIFIED_AT = datetime(2026, 12, 1, 10, 0, tzinfo=SEOUL)


@dataclass
class Grievance:
    """A running grievance service and what a test needs to talk to it."""

    client: httpx.AsyncClient
    app: FastAPI
    clock: ManualClock
    auth: AuthSettings
    database_url: str
    stage_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def for_new_stage(self, stage_id: uuid.UUID | None = None) -> Grievance:
        """The same service, seen by a test working on a stage of its own."""
        return Grievance(
            self.client, self.app, self.clock, self.auth, self.database_url, stage_id or uuid.uuid4()
        )

    @property
    def scheduler(self) -> ClosingScheduler:
        runtime: ServiceRuntime = self.app.state.runtime
        return runtime.component(ClosingScheduler)

    def operator(self) -> dict[str, str]:
        return bearer(self.auth, Role.OPERATOR, subject="operator-kim")

    def team(self, team_id: uuid.UUID) -> dict[str, str]:
        return bearer(self.auth, Role.TEAM, team_id, subject=f"team-{team_id.hex[:6]}")

    async def notify(
        self,
        team_ids: list[uuid.UUID],
        *,
        notified_at: datetime = NOTIFIED_AT,
        days: int = 10,
        kind: str = "stage-result",
        decision_id: uuid.UUID | None = None,
    ) -> list[dict[str, Any]]:
        body = {
            "decision": {"kind": kind, "id": str(decision_id or self.stage_id)},
            "stage_id": str(self.stage_id),
            "teams": [{"team_id": str(t), "outcome": "eliminated", "reason_code": "rank"} for t in team_ids],
            "notified_at": notified_at.isoformat(),
            "objection_days": days,
        }
        response = await self.client.post("/v1/notifications", json=body, headers=self.operator())
        assert response.status_code == 201, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def file(
        self,
        team_id: uuid.UUID,
        *,
        key: str | None = None,
        grounds: str = "process-defect",
        statement: str = "The benchmark run used the wrong decoding parameters.",
        attachments: list[dict[str, str]] | None = None,
        decision_id: uuid.UUID | None = None,
        kind: str = "stage-result",
    ) -> httpx.Response:
        body = {
            "decision": {"kind": kind, "id": str(decision_id or self.stage_id)},
            "grounds": grounds,
            "statement": statement,
            "attachments": attachments or [],
        }
        headers = self.team(team_id) | {"Idempotency-Key": key or uuid.uuid4().hex}
        return await self.client.post("/v1/objections", json=body, headers=headers)

    async def amend(
        self, team_id: uuid.UUID, objection_id: str, statement: str, *, key: str | None = None
    ) -> httpx.Response:
        body = {"grounds": "process-defect", "statement": statement, "attachments": []}
        headers = self.team(team_id) | {"Idempotency-Key": key or uuid.uuid4().hex}
        return await self.client.post(f"/v1/objections/{objection_id}/amendments", json=body, headers=headers)

    async def review_and_decide(
        self, objection_id: str, outcome: str, reason: str, concerns: list[str] | None = None
    ) -> httpx.Response:
        started = await self.client.post(
            f"/v1/objections/{objection_id}/review", json={}, headers=self.operator()
        )
        assert started.status_code == 200, started.text
        body: dict[str, Any] = {"outcome": outcome, "reason": reason}
        if concerns is not None:
            body["concerns"] = concerns
        return await self.client.post(
            f"/v1/objections/{objection_id}/decision", json=body, headers=self.operator()
        )

    async def phase(self, decision_id: uuid.UUID | None = None, kind: str = "stage-result") -> dict[str, Any]:
        response = await self.client.get(
            f"/v1/decisions/{kind}/{decision_id or self.stage_id}/grievance", headers=self.operator()
        )
        assert response.status_code == 200, response.text
        phase: dict[str, Any] = response.json()
        return phase


@dataclass
class GrievanceDeployment:
    """One database and one clock that successive service instances share (restarts)."""

    settings: GrievanceSettings
    clock: ManualClock
    auth: AuthSettings

    @asynccontextmanager
    async def running(self, stage_id: uuid.UUID | None = None) -> AsyncIterator[Grievance]:
        app = create_app(self.settings, self.clock)
        async with serving(app) as client:
            yield Grievance(
                client=client,
                app=app,
                clock=self.clock,
                auth=self.auth,
                database_url=self.settings.database_url,
                stage_id=stage_id or uuid.uuid4(),
            )


async def grievance_events(
    bootstrap: str, stage_id: uuid.UUID, *, until: Callable[[list[Envelope]], bool], timeout: float = 20.0
) -> list[Envelope]:
    """Envelopes on the grievance topic keyed by the stage, read from the start until ``until`` holds.

    After ``until`` holds, keeps reading a little longer so that an unexpected extra event shows.
    """
    consumer = AIOKafkaConsumer(
        str(Topic.GRIEVANCE),
        bootstrap_servers=bootstrap,
        group_id=None,  # no group to join (that takes seconds): read every partition from the start
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[Envelope] = []
    key = str(stage_id).encode()
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        settle_until: float | None = None
        while loop.time() < deadline and (settle_until is None or loop.time() < settle_until):
            batches = await consumer.getmany(timeout_ms=200)
            found += [
                Envelope.from_bytes(r.value or b"") for b in batches.values() for r in b if r.key == key
            ]
            if settle_until is None and until(found):
                settle_until = loop.time() + 1.0
    finally:
        await consumer.stop()
    return found


def of_type(envelopes: list[Envelope], suffix: str) -> list[Envelope]:
    return [e for e in envelopes if e.type == f"fmc.grievance.{suffix}.v1"]
