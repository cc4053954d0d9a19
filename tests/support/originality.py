"""Scoring's originality checks on the real service, beside the real registry it reads manifests from: the
setup the originality API tests and the S3 artefact-store tests share (a service per backend with the
donor registered, a team's frozen submission with its files delivered, a check run)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from fmc_common.auth import Role
from fmc_common.settings import AuthSettings
from fmc_devrunner.ports import free_port
from fmc_registry.main import create_app as create_registry
from fmc_registry.settings import RegistrySettings
from fmc_scoring.main import create_app
from fmc_scoring.originality import synthetic
from fmc_scoring.originality.synthetic import Weights
from fmc_scoring.planning.models import EvaluatedSubmission, Evaluation
from fmc_scoring.settings import ScoringSettings
from registry.factories import programme, stage_to, submission_body, team
from registry.harness import Registry
from support.databases import DatabaseFactory, postgres_available
from support.kafka import broker_settings
from support.services import bearer, serving


@dataclass
class Service:
    client: httpx.AsyncClient
    app: FastAPI
    auth: AuthSettings
    root: Path
    registry: Registry
    donor: dict[str, Any] = field(default_factory=dict)

    def operator(self) -> dict[str, str]:
        return bearer(self.auth, Role.OPERATOR)

    def team(self, team_id: uuid.UUID) -> dict[str, str]:
        return bearer(self.auth, Role.TEAM, team_id)


@dataclass
class Frozen:
    """A submission frozen in the registry and in scoring's planning records, its files delivered."""

    stage_id: uuid.UUID
    team_id: uuid.UUID
    submission_id: uuid.UUID
    location: Path
    manifest: dict[str, Any]


@asynccontextmanager
async def originality_service(
    backend: str,
    broker: str,
    auth_settings: AuthSettings,
    tmp_path_factory: pytest.TempPathFactory,
    store: Path,
    **scoring_settings: Any,
) -> AsyncIterator[Service]:
    """Scoring (its database named after the caller's, ``scoring_settings`` saying where weights are read
    from) and the real registry it reads submissions' manifests from, both in process (scoring calls the
    registry with the service token it signs), served, with the donor ``donors/qwen`` registered; the
    caller has put the donor's files where those settings point. ``store``: where a submission's files
    are delivered. On PostgreSQL it skips (fails under FMC_REQUIRE_POSTGRES=1) when none is reachable."""
    if backend == "postgres" and not await postgres_available():
        if os.environ.get("FMC_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is not reachable")
        pytest.skip("PostgreSQL is not reachable")
    factory = DatabaseFactory(backend, tmp_path_factory.mktemp("db"))
    kafka = broker_settings(broker)
    registry_port = free_port()
    registry_url = await factory.create("registry")
    registry_app = create_registry(
        RegistrySettings(database_url=registry_url, kafka=kafka, auth=auth_settings, grpc_port=registry_port)
    )
    settings = ScoringSettings(
        database_url=await factory.create("originality"),
        kafka=kafka,
        auth=auth_settings,
        grpc_port=free_port(),
        registry_url="http://registry",
        **scoring_settings,
    )
    app = create_app(settings, registry_transport=httpx.ASGITransport(app=registry_app))
    # Neither consumes anything here: scoring's frozen submissions are written as planning records them.
    registry_app.state.runtime.consumers = []
    app.state.runtime.consumers = []
    try:
        async with serving(registry_app) as registry_client, serving(app) as client:
            registry = Registry(
                registry_client, registry_app, auth_settings, registry_port, registry_url, broker
            )
            running = Service(client, app, auth_settings, store, registry)
            registered = await register_donor(running)
            assert registered.status_code == 201, registered.text
            running.donor = registered.json()
            yield running
    finally:
        await factory.drop_all()


async def register_donor(service: Service) -> httpx.Response:
    body = {"name": "Qwen2.5-VL-sim", "revision": "rev-a1b2c3", "weights_path": "donors/qwen"}
    return await service.client.post("/v1/originality/donors", json=body, headers=service.operator())


def write_files(directory: Path, weights: Weights, shards: int = 1) -> None:
    """The model as one ``model.safetensors``, or as shards with ``model.safetensors.index.json``."""
    directory.mkdir(parents=True, exist_ok=True)
    if shards == 1:
        synthetic.write_model(directory / "model.safetensors", weights)
        return
    names = sorted(weights)
    weight_map: dict[str, str] = {}
    for i in range(shards):
        shard = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        part = {n: weights[n] for n in names[i::shards]}
        synthetic.write_model(directory / shard, part)
        weight_map |= dict.fromkeys(part, shard)
    index = {"metadata": {}, "weight_map": weight_map}
    (directory / "model.safetensors.index.json").write_text(json.dumps(index))


def manifest_of(directory: Path) -> dict[str, Any]:
    """The manifest a team declares for the files it will deliver (real sizes and hashes)."""
    files = [
        {"path": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest(), "size_bytes": p.stat().st_size}
        for p in sorted(directory.iterdir())
    ]
    manifest: dict[str, Any] = {"files": files}
    index = directory / "model.safetensors.index.json"
    if index.exists():
        manifest["index"] = {"path": index.name, "weight_map": json.loads(index.read_text())["weight_map"]}
    return manifest


async def frozen_submission(
    service: Service,
    weights: Weights,
    *,
    shards: int = 1,
    write: Callable[[Path, Weights], None] | None = None,
) -> Frozen:
    """A team submits through the registry, delivers its files at the location the registry states, and
    the stage's evaluation starts: scoring records the frozen submissions as its planning does."""
    registry = service.registry
    world = await programme(registry)
    team_id = await team(registry, world)
    stage_id = world.stage_ids[1]
    await stage_to(registry, stage_id, "open-for-submissions")
    staging = service.root.parent / "staging" / uuid.uuid4().hex
    if write is None:
        write_files(staging, weights, shards)
    else:  # files as a team could deliver them (hostile ones included), declared with their real hashes
        staging.mkdir(parents=True)
        write(staging, weights)
    body = submission_body(shards=1)
    body["manifest"] |= manifest_of(staging)
    submitted = await registry.client.post(
        f"/v1/stages/{stage_id}/teams/{team_id}/submissions", json=body, headers=registry.as_team(team_id)
    )
    assert submitted.status_code == 201, submitted.text
    submission = submitted.json()
    assert submission["weights_location"] == f"submissions/{team_id}/{submission['id']}/"
    location = service.root / submission["weights_location"]
    location.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(staging, location)
    started = await registry.client.post(f"/v1/stages/{stage_id}/evaluation", headers=registry.operator())
    assert started.status_code == 200, started.text
    runtime = service.app.state.runtime
    async with runtime.sessions() as session, session.begin():
        now = datetime.now(UTC)
        session.add(
            Evaluation(
                stage_id=stage_id,
                programme_id=world.programme_id,
                stage_number=1,
                started_at=now,
                planned_at=now,
            )
        )
        await session.flush()
        for frozen in started.json():
            session.add(
                EvaluatedSubmission(
                    stage_id=stage_id,
                    team_id=uuid.UUID(frozen["team_id"]),
                    submission_id=uuid.UUID(frozen["submission_id"]),
                    version=frozen["version"],
                    endpoint=frozen["endpoint"],
                    manifest_digest=frozen["manifest_digest"],
                )
            )
    return Frozen(stage_id, team_id, uuid.UUID(submission["id"]), location, submission["manifest"])


async def run_check(service: Service, frozen: Frozen, **extra: Any) -> httpx.Response:
    headers = {**service.operator(), **extra.pop("headers", {})}
    body = {"stage_id": str(frozen.stage_id), "submission_id": str(frozen.submission_id)} | extra
    return await service.client.post("/v1/originality/checks", json=body, headers=headers)


def copied_model(donor_weights: Weights, own_weights: Weights) -> Weights:
    return synthetic.with_own_language_model(
        synthetic.fine_tune(donor_weights, "visual.", 0.3, 4), own_weights
    )
