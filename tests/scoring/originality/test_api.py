"""REST /v1/originality on the real service (SQLite and PostgreSQL, real broker): library, checks, reports."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from fmc_common import db, migrations
from fmc_common.auth import Role
from fmc_common.clock import SystemClock
from fmc_common.messaging.outbox import Outbox
from fmc_common.settings import AuthSettings, KafkaSettings
from fmc_devrunner.ports import free_port
from fmc_scoring.base import PLATFORM
from fmc_scoring.main import MIGRATIONS, create_app
from fmc_scoring.originality import service as originality_service
from fmc_scoring.originality import synthetic
from fmc_scoring.originality.service import ReferenceLibraryEmpty
from fmc_scoring.originality.synthetic import Weights
from fmc_scoring.settings import ScoringSettings
from support.databases import DatabaseFactory, postgres_available
from support.eventually import eventually
from support.services import bearer, serving

PROBLEM = "application/problem+json"


@dataclass
class Service:
    client: httpx.AsyncClient
    app: FastAPI
    auth: AuthSettings
    root: Path
    donor: dict[str, Any] = field(default_factory=dict)

    def operator(self) -> dict[str, str]:
        return bearer(self.auth, Role.OPERATOR)

    def team(self, team_id: uuid.UUID) -> dict[str, str]:
        return bearer(self.auth, Role.TEAM, team_id)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def service(
    request: pytest.FixtureRequest,
    broker: str,
    auth_settings: AuthSettings,
    tmp_path_factory: pytest.TempPathFactory,
    donor_weights: Weights,
    own_weights: Weights,
) -> AsyncIterator[Service]:
    """One service per backend for the module, with the donor registered: starting one per test
    (migrations, broker, relay, consumers) would dominate the suite's time. Tests use their own teams."""
    backend = str(request.param)
    if backend == "postgres" and not await postgres_available():
        if os.environ.get("FMC_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is not reachable")
        pytest.skip("PostgreSQL is not reachable")
    root = tmp_path_factory.mktemp("weights")
    (root / "donors" / "qwen").mkdir(parents=True)
    (root / "teams").mkdir()
    synthetic.write_model(root / "donors" / "qwen" / "model.safetensors", donor_weights)
    synthetic.write_model(root / "teams" / "own.safetensors", own_weights)
    copied = synthetic.with_own_language_model(
        synthetic.fine_tune(donor_weights, "visual.", 0.3, 4), own_weights
    )
    synthetic.write_model(root / "teams" / "copied.safetensors", copied)
    factory = DatabaseFactory(backend, tmp_path_factory.mktemp("db"))
    settings = ScoringSettings(
        database_url=await factory.create("originality"),
        kafka=KafkaSettings(bootstrap_servers=broker, topic_partitions=3),
        auth=auth_settings,
        grpc_port=free_port(),
        originality_weights_root=root,
    )
    app = create_app(settings)
    try:
        async with serving(app) as client:
            running = Service(client, app, auth_settings, root)
            registered = await register_donor(running)
            assert registered.status_code == 201, registered.text
            running.donor = registered.json()
            yield running
    finally:
        await factory.drop_all()


async def register_donor(service: Service) -> httpx.Response:
    body = {"name": "Qwen2.5-VL-sim", "revision": "rev-a1b2c3", "weights_path": "donors/qwen"}
    return await service.client.post("/v1/originality/donors", json=body, headers=service.operator())


async def run_check(service: Service, weights: str, team_id: uuid.UUID, **extra: str) -> httpx.Response:
    body = {"stage_id": str(uuid.uuid4()), "team_id": str(team_id), "weights_path": weights}
    return await service.client.post(
        "/v1/originality/checks", json=body, headers={**service.operator(), **extra}
    )


class TestReferenceLibrary:
    async def test_the_registered_donor_is_listed_and_registering_it_again_is_a_conflict(
        self, service: Service
    ) -> None:
        donor = service.donor
        assert (donor["name"], donor["revision"], donor["source"]) == (
            "Qwen2.5-VL-sim",
            "rev-a1b2c3",
            "donors/qwen",
        )
        assert donor["tensor_count"] == len(synthetic.Architecture().layout())
        listed = await service.client.get("/v1/originality/donors", headers=service.operator())
        assert [d["id"] for d in listed.json()["items"]] == [donor["id"]]
        one = await service.client.get(f"/v1/originality/donors/{donor['id']}", headers=service.operator())
        assert one.json() == donor
        again = await register_donor(service)
        assert again.status_code == 409
        assert again.json()["code"] == "donor-already-registered"

    async def test_weights_must_be_readable_safetensors_inside_the_weights_directory(
        self, service: Service
    ) -> None:
        (service.root / "teams" / "junk.safetensors").write_bytes(b"not a model at all")
        cases = [
            ("../../etc", 422, "weights-path-refused"),
            ("/etc/passwd", 422, "weights-path-refused"),
            ("absent", 404, "weights-not-found"),
            ("teams/junk.safetensors", 422, "weights-unreadable"),
        ]
        for path, status, code in cases:
            body = {"name": "x", "revision": "1", "weights_path": path}
            response = await service.client.post(
                "/v1/originality/donors", json=body, headers=service.operator()
            )
            assert (response.status_code, response.json()["code"]) == (status, code), path
            assert response.headers["content-type"].startswith(PROBLEM)
        extra = {"name": "x", "revision": "1", "weights_path": "donors/qwen", "keep_weights": True}
        response = await service.client.post("/v1/originality/donors", json=extra, headers=service.operator())
        assert response.status_code == 422  # unknown fields are refused

    async def test_only_operators_manage_the_library_and_run_checks(self, service: Service) -> None:
        team_id = uuid.uuid4()
        team = service.team(team_id)
        body = {"name": "x", "revision": "1", "weights_path": "donors/qwen"}
        assert (
            await service.client.post("/v1/originality/donors", json=body, headers=team)
        ).status_code == 403
        assert (await service.client.get("/v1/originality/donors", headers=team)).status_code == 403
        assert (await service.client.get("/v1/originality/donors")).status_code == 401
        check = {
            "stage_id": str(uuid.uuid4()),
            "team_id": str(team_id),
            "weights_path": "teams/own.safetensors",
        }
        assert (
            await service.client.post("/v1/originality/checks", json=check, headers=team)
        ).status_code == 403
        unknown = await service.client.get(
            f"/v1/originality/checks/{uuid.uuid4()}", headers=service.operator()
        )
        assert (unknown.status_code, unknown.json()["code"]) == (404, "originality-check-not-found")


class TestChecks:
    async def test_a_copied_vision_encoder_is_reused_announced_and_readable_by_its_team_only(
        self, service: Service
    ) -> None:
        team_id = uuid.uuid4()
        response = await run_check(service, "teams/copied.safetensors", team_id)
        assert response.status_code == 201, response.text
        check = response.json()
        assert check["verdict"] == "reused"
        assert "vision encoder (from Qwen2.5-VL-sim@rev-a1b2c3)" in check["report"]["reused_components"]
        modules = {m["module"]: m for m in check["report"]["modules"]}
        assert modules["vision.layers.0.attention"]["decision"] == "reused"
        assert modules["vision.layers.0.attention"]["baseline_sd"] is not None
        event = await sent_event(service.app, check["id"])
        assert event["type"] == "fmc.scoring.originality-verdict-issued.v1"
        data = event["data"]
        assert isinstance(data, dict)
        assert (data["verdict"], data["team_id"]) == ("reused", str(team_id))
        assert data["donors"] == ["Qwen2.5-VL-sim@rev-a1b2c3"]
        assert not any(word in json.dumps(data) for word in ("score", "rank", "pearson", "cka"))
        # The team reads its own report; another team and anonymous callers cannot.
        url = f"/v1/originality/checks/{check['id']}"
        own = await service.client.get(url, headers=service.team(team_id))
        assert own.status_code == 200
        assert own.json()["report"]["verdict"] == "reused"
        assert (await service.client.get(url, headers=service.team(uuid.uuid4()))).status_code == 403
        assert (await service.client.get(url)).status_code == 401
        listed = await service.client.get("/v1/originality/checks", headers=service.team(team_id))
        assert [c["id"] for c in listed.json()["items"]] == [check["id"]]
        assert "report" not in listed.json()["items"][0]
        others = {"team_id": str(uuid.uuid4())}
        refused = await service.client.get(
            "/v1/originality/checks", params=others, headers=service.team(team_id)
        )
        assert refused.status_code == 403

    async def test_an_original_model_is_original_and_a_retried_check_returns_the_first_result(
        self, service: Service
    ) -> None:
        headers = {"Idempotency-Key": f"check-{uuid.uuid4()}"}
        team_id = uuid.uuid4()
        body = {
            "stage_id": str(uuid.uuid4()),
            "team_id": str(team_id),
            "weights_path": "teams/own.safetensors",
        }
        first = await service.client.post(
            "/v1/originality/checks", json=body, headers={**service.operator(), **headers}
        )
        second = await service.client.post(
            "/v1/originality/checks", json=body, headers={**service.operator(), **headers}
        )
        assert first.json()["verdict"] == "original"
        assert first.json()["report"]["reused_modules"] == []
        assert second.json()["id"] == first.json()["id"]
        mine = {"team_id": str(team_id)}
        listed = await service.client.get("/v1/originality/checks", params=mine, headers=service.operator())
        assert len(listed.json()["items"]) == 1


async def sent_event(app: FastAPI, check_id: str, timeout: float = 20.0) -> dict[str, object]:
    """The verdict event from the outbox, once the relay has published it to the broker."""
    runtime = app.state.runtime
    outbox = PLATFORM.outbox

    async def published() -> dict[str, object] | None:
        async with runtime.sessions() as session:
            rows = (await session.execute(select(outbox.c.payload, outbox.c.sent_at))).all()
        for payload, sent_at in rows:
            event: dict[str, object] = json.loads(payload)
            if event.get("subject") == f"originality-checks/{check_id}" and sent_at is not None:
                return event
        return None

    return await eventually(
        published, timeout=timeout, interval=0.2, what=f"a published verdict event for check {check_id}"
    )


class TestEmptyLibrary:
    async def test_a_check_before_any_donor_is_registered_is_refused(
        self, database_factory: DatabaseFactory, tmp_path: Path, own_weights: Weights
    ) -> None:
        synthetic.write_model(tmp_path / "own.safetensors", own_weights)
        url = await database_factory.create("originality")
        await migrations.upgrade(MIGRATIONS, url)
        engine = db.create_engine(url)
        clock = SystemClock()
        try:
            async with db.session_factory(engine)() as session, session.begin():
                with pytest.raises(ReferenceLibraryEmpty, match="register at least one donor"):
                    await originality_service.run_check(
                        session,
                        Outbox(PLATFORM, "/fmc/scoring", clock),
                        clock,
                        tmp_path,
                        stage_id=uuid.uuid4(),
                        team_id=uuid.uuid4(),
                        submission_id=None,
                        weights_path="own.safetensors",
                        actor="tester",
                    )
        finally:
            await engine.dispose()
