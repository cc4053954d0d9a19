"""Kafka in: InferenceRunRequested (scoring's topic) starts a run; SubmissionRegistered (registry's)
makes the endpoint known. Kafka out: progress and one completion, keyed by the run id."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from fmc_common.auth import Role
from fmc_common.events.envelope import Envelope
from fmc_common.events.inference import (
    DecodingParameters,
    GpuPool,
    InferenceRunRequested,
    ItemsSource,
    RunEndpoint,
    SuiteReference,
)
from fmc_common.events.registry import SubmissionRegistered, TritonEndpoint
from fmc_common.events.topics import Topic
from fmc_common.settings import AuthSettings, KafkaSettings
from fmc_devrunner.triton import TritonProcess
from gateway.conftest import SettingsFactory
from gateway.helpers import SUITE_HASH, finished, of_type, run_events, wait_for_run, write_items
from support.databases import DatabaseFactory
from support.kafka import envelope_bytes, produce_raw
from support.services import bearer

pytestmark = [pytest.mark.broker, pytest.mark.triton]


def completed(events: list[Envelope]) -> bool:
    return bool(of_type(events, "inference-run-completed"))


class TestIntake:
    async def test_a_requested_run_is_answered_and_announced_with_progress_and_one_completion(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        gateway_factory: Callable[..., Any],
        triton: TritonProcess,
        auth_settings: AuthSettings,
        kafka_settings: KafkaSettings,
        tmp_path: Path,
    ) -> None:
        settings = gateway_settings(
            await database_factory.create("gateway"), intake_enabled=True, progress_every_items=200
        )
        gateway: httpx.AsyncClient = await gateway_factory(settings)
        items, sha256 = write_items(tmp_path, 1000)
        submission, team = uuid.uuid4(), uuid.uuid4()
        endpoint = TritonEndpoint(
            url=triton.grpc_url, model_name="demo-lm", model_version="", protocol="grpc", gpu_pool="H100"
        )
        registered = SubmissionRegistered(
            submission_id=submission,
            stage_id=uuid.uuid4(),
            team_id=team,
            version=1,
            endpoint=endpoint,
            manifest_digest="sha256:" + hashlib.sha256(b"weights").hexdigest(),
            registered_at=datetime.now(UTC),
        )
        request = InferenceRunRequested(
            run_id=uuid.uuid4(),
            stage_id=registered.stage_id,
            submission_id=submission,
            team_id=team,
            endpoint=RunEndpoint(url=triton.grpc_url, model_name="demo-lm", gpu_pool=GpuPool.H100),
            suite=SuiteReference(suite_id="demo-en", version="1", content_hash=SUITE_HASH),
            items=ItemsSource(uri=items.as_uri(), item_count=1000, sha256=sha256),
            decoding=DecodingParameters(max_tokens=4),
            requested_at=datetime.now(UTC),
        )
        bootstrap = kafka_settings.bootstrap_servers
        await produce_raw(
            bootstrap,
            str(Topic.REGISTRY),
            [envelope_bytes(registered)],
            key=str(registered.stage_id).encode(),
        )
        await produce_raw(
            bootstrap, str(Topic.SCORING), [envelope_bytes(request)], key=str(request.run_id).encode()
        )

        done = await wait_for_run(
            gateway, auth_settings, str(request.run_id), finished, timeout=90, missing_ok=True
        )

        assert done["status"] == "completed"
        assert done["answered"] == 1000
        events = await run_events(bootstrap, str(request.run_id), completed)
        assert len(of_type(events, "inference-run-completed")) == 1
        progress = of_type(events, "inference-run-progressed")
        assert progress
        assert all(0 < e.data["answered"] < 1000 for e in progress)
        assert [e.data["answered"] for e in progress] == sorted(e.data["answered"] for e in progress)
        assert all(e.subject == f"runs/{request.run_id}" for e in events)
        known = (await gateway.get("/v1/endpoints", headers=bearer(auth_settings, Role.OPERATOR))).json()
        [row] = [e for e in known["items"] if e["url"] == triton.grpc_url and e["model_name"] == "demo-lm"]
        assert row["submission_id"] == str(submission)
        assert row["last_check_ok"] is True
        assert row["server_version"] == "2.51.0"
