"""A run end to end against a real Triton: every item answered once, recorded once, announced once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from fmc_common import db
from fmc_common.auth import Role
from fmc_common.settings import AuthSettings, KafkaSettings
from fmc_devrunner.triton import TritonProcess
from fmc_gateway.runs.hashing import responses_digest
from fmc_gateway.runs.models import Run
from gateway.conftest import SettingsFactory
from gateway.helpers import (
    all_responses,
    expected_text,
    finished,
    of_type,
    request_run,
    run_body,
    run_events,
    wait_for_run,
    write_items,
)
from support.databases import DatabaseFactory
from support.services import bearer

pytestmark = [pytest.mark.broker, pytest.mark.triton]


class TestARunCompletes:
    async def test_a_2000_item_run_stores_exactly_2000_records_and_one_completion_event(
        self,
        gateway: httpx.AsyncClient,
        triton: TritonProcess,
        auth_settings: AuthSettings,
        kafka_settings: KafkaSettings,
        tmp_path: Path,
    ) -> None:
        items, sha256 = write_items(tmp_path, 2000)
        body = run_body(items, 2000, triton.grpc_url, sha256=sha256)
        run = await request_run(gateway, auth_settings, body)
        assert run["status"] == "pending"

        done = await wait_for_run(gateway, auth_settings, run["id"], finished, timeout=90)

        assert done["status"] == "completed", done
        assert (done["total"], done["answered"], done["errored"]) == (2000, 2000, 0)
        records = await all_responses(gateway, auth_settings, run["id"])
        assert len(records) == 2000
        assert len({r["item_id"] for r in records}) == 2000
        assert [r["seq"] for r in records] == list(range(2000))
        assert all(r["status"] == "ok" and r["attempts"] == 1 for r in records)
        assert records[7]["text"] == expected_text(7)
        assert records[1999]["text"] == expected_text(1999)
        assert done["responses_sha256"] == responses_digest(
            (r["item_id"], r["status"], r["text"], r["error"]) for r in records
        )
        events = await run_events(
            kafka_settings.bootstrap_servers,
            run["id"],
            lambda found: bool(of_type(found, "inference-run-completed")),
        )
        completed = of_type(events, "inference-run-completed")
        assert len(completed) == 1
        data = completed[0].data
        assert (data["total"], data["answered"], data["errored"]) == (2000, 2000, 0)
        assert data["responses_sha256"] == done["responses_sha256"]
        assert data["gpu_pool"] == "H100"
        assert data["hardware_class"] == done["hardware_class"]
        assert data["server_version"].startswith("2.")
        assert data["model_version"] == "1"
        # Timing: our signature does not stream (no time to first token); demo-lm counts its tokens.
        assert all(r["ttft_ms"] is None for r in records)
        for r in records[:50]:
            assert r["tokens_per_second"] == pytest.approx(r["completion_tokens"] / (r["latency_ms"] / 1000))
        latencies = sorted(r["latency_ms"] for r in records)
        speeds = sorted(r["tokens_per_second"] for r in records)
        assert done["efficiency"] == {
            "items_timed": 2000,
            "items_streamed": 0,
            "ttft_ms_p50": None,
            "ttft_ms_p95": None,
            "latency_ms_p50": latencies[999],
            "latency_ms_p95": latencies[1899],
            "tokens_per_second_median": speeds[999],
        }
        assert data["efficiency"] == done["efficiency"]

    async def test_the_same_request_twice_is_one_run_and_another_with_its_id_is_refused(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings, tmp_path: Path
    ) -> None:
        items, _ = write_items(tmp_path, 3)
        body = run_body(items, 3, triton.grpc_url)
        first = await request_run(gateway, auth_settings, body)
        again = await gateway.post("/v1/runs", json=body, headers=bearer(auth_settings, Role.SERVICE))
        assert again.status_code == 200
        assert again.json()["id"] == first["id"]
        other = await gateway.post(
            "/v1/runs",
            json=body | {"decoding": {"max_tokens": 9}},
            headers=bearer(auth_settings, Role.SERVICE),
        )
        assert other.status_code == 409
        assert other.json()["code"] == "run-id-conflict"


class TestResponsesApi:
    async def test_responses_come_in_pages_in_item_order(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings, tmp_path: Path
    ) -> None:
        items, _ = write_items(tmp_path, 25)
        run = await request_run(gateway, auth_settings, run_body(items, 25, triton.grpc_url))
        await wait_for_run(gateway, auth_settings, run["id"], finished)
        seen: list[int] = []
        cursor = None
        while True:
            params = {"limit": 10} | ({"cursor": cursor} if cursor else {})
            page = (
                await gateway.get(
                    f"/v1/runs/{run['id']}/responses",
                    params=params,
                    headers=bearer(auth_settings, Role.SERVICE),
                )
            ).json()
            assert len(page["items"]) <= 10
            seen += [item["seq"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == list(range(25))

    async def test_a_team_reads_its_own_run_but_not_another_teams(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings, tmp_path: Path
    ) -> None:
        team = uuid.uuid4()
        items, _ = write_items(tmp_path, 2)
        run = await request_run(gateway, auth_settings, run_body(items, 2, triton.grpc_url, team_id=team))
        mine = await gateway.get(
            f"/v1/runs/{run['id']}/responses", headers=bearer(auth_settings, Role.TEAM, team)
        )
        assert mine.status_code == 200
        other = await gateway.get(
            f"/v1/runs/{run['id']}/responses", headers=bearer(auth_settings, Role.TEAM, uuid.uuid4())
        )
        assert other.status_code == 403
        evaluator = await gateway.get(f"/v1/runs/{run['id']}", headers=bearer(auth_settings, Role.EVALUATOR))
        assert evaluator.status_code == 403
        anonymous = await gateway.get(f"/v1/runs/{run['id']}")
        assert anonymous.status_code == 401
        as_team = await gateway.post(
            "/v1/runs",
            json=run_body(items, 2, triton.grpc_url),
            headers=bearer(auth_settings, Role.TEAM, team),
        )
        assert as_team.status_code == 403


class TestSelfHealing:
    async def test_a_run_whose_chunks_are_all_done_but_counts_drifted_is_recounted_and_completed(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        gateway_factory: Callable[..., Any],
        triton: TritonProcess,
        auth_settings: AuthSettings,
        tmp_path: Path,
    ) -> None:
        url = await database_factory.create("gateway")
        gateway = await gateway_factory(gateway_settings(url))
        items, _ = write_items(tmp_path, 120)
        run = await request_run(gateway, auth_settings, run_body(items, 120, triton.grpc_url))
        await wait_for_run(gateway, auth_settings, run["id"], finished)
        engine = db.create_engine(url)
        try:
            async with engine.begin() as connection:  # as if a count had been lost
                await connection.execute(
                    update(Run)
                    .where(Run.id == uuid.UUID(run["id"]))
                    .values(status="running", answered=3, responses_sha256=None, finished_at=None)
                )
        finally:
            await engine.dispose()

        healed = await wait_for_run(gateway, auth_settings, run["id"], finished)

        assert healed["status"] == "completed"
        assert healed["answered"] == 120
        assert healed["responses_sha256"] is not None
