"""Fair scheduling: two teams' runs on one pool with capacity for one request both progress, in turns,
and a team's runs share its turn; and the fairness record: identical decoding parameters per stage and
suite, and every run's conditions (pool, serving stack, model and version, decoding) kept and shown."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest

from fmc_common.auth import Role
from fmc_common.events.inference import GpuPool
from fmc_common.settings import AuthSettings, KafkaSettings
from fmc_devrunner.triton import TritonProcess
from gateway.conftest import SettingsFactory
from gateway.helpers import (
    all_responses,
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


def times(records: list[dict[str, Any]], key: str) -> list[datetime]:
    return sorted(datetime.fromisoformat(r[key]) for r in records)


class TestFairScheduling:
    async def test_two_teams_runs_on_a_pool_with_capacity_for_one_both_progress(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        gateway_factory: Callable[..., Any],
        triton: TritonProcess,
        auth_settings: AuthSettings,
        tmp_path: Path,
    ) -> None:
        settings = gateway_settings(
            await database_factory.create("gateway"),
            pool_capacity={GpuPool.H100: 1, GpuPool.B200: 1},
            chunk_size=50,
        )
        gateway: httpx.AsyncClient = await gateway_factory(settings)
        stage = uuid.uuid4()
        first_items, _ = write_items(tmp_path, 600)
        second_items, _ = write_items(tmp_path, 300)
        first = await request_run(
            gateway, auth_settings, run_body(first_items, 600, triton.grpc_url, stage_id=stage)
        )
        await wait_for_run(gateway, auth_settings, first["id"], lambda r: r["answered"] >= 50, interval=0.01)
        second = await request_run(
            gateway, auth_settings, run_body(second_items, 300, triton.grpc_url, stage_id=stage)
        )
        for run in (first, second):
            assert (await wait_for_run(gateway, auth_settings, run["id"], finished))["status"] == "completed"

        a = await all_responses(gateway, auth_settings, first["id"])
        b = await all_responses(gateway, auth_settings, second["id"])
        # Neither finishes before the other has started ...
        assert times(b, "started_at")[0] < times(a, "finished_at")[-1]
        assert times(a, "started_at")[0] < times(b, "finished_at")[-1]
        # ... and while both have items, they take turns: the first run, which came with twice as
        # many items and a head start, answers about as many as the second, not all of its own.
        b_start, b_end = times(b, "started_at")[0], times(b, "finished_at")[-1]
        a_meanwhile = [t for t in times(a, "finished_at") if b_start <= t <= b_end]
        assert 0.5 * 300 <= len(a_meanwhile) <= 1.5 * 300
        assert len(times(a, "finished_at")) - len(a_meanwhile) >= 150  # the first run was left its share
        # Turn by turn, not chunk by chunk: in the overlap, consecutive answers almost always
        # alternate (first come, first served by chunks of 50 would alternate once per 50).
        order = [
            run
            for _, run in sorted([(r["finished_at"], "a") for r in a] + [(r["finished_at"], "b") for r in b])
        ]
        overlap = order[order.index("b") : len(order) - order[::-1].index("b")]
        switches = sum(1 for previous, run in pairwise(overlap) if run != previous)
        assert switches >= 0.8 * (len(overlap) - 1), overlap


class TestFairSharePerTeam:
    async def test_a_team_with_one_run_gets_about_the_throughput_of_a_team_with_four_on_the_same_pool(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        gateway_factory: Callable[..., Any],
        triton: TritonProcess,
        auth_settings: AuthSettings,
        tmp_path: Path,
    ) -> None:
        settings = gateway_settings(
            await database_factory.create("gateway"),
            pool_capacity={GpuPool.H100: 1, GpuPool.B200: 1},
            chunk_size=50,
        )
        gateway: httpx.AsyncClient = await gateway_factory(settings)
        stage, team_a, team_b = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        a_items, _ = write_items(tmp_path, 300)
        b_items, _ = write_items(tmp_path, 1200)
        a_runs = [
            await request_run(
                gateway,
                auth_settings,
                run_body(a_items, 300, triton.grpc_url, stage_id=stage, team_id=team_a),
            )
            for _ in range(4)
        ]
        b_run = await request_run(
            gateway, auth_settings, run_body(b_items, 1200, triton.grpc_url, stage_id=stage, team_id=team_b)
        )
        for run in [*a_runs, b_run]:
            assert (await wait_for_run(gateway, auth_settings, run["id"], finished))["status"] == "completed"

        a_records = [await all_responses(gateway, auth_settings, run["id"]) for run in a_runs]
        b_records = await all_responses(gateway, auth_settings, b_run["id"])
        # The window in which every one of the five runs had items to answer.
        runs = [*a_records, b_records]
        start = max(times(records, "started_at")[0] for records in runs)
        end = min(times(records, "finished_at")[-1] for records in runs)
        a_done = sum(1 for records in a_records for t in times(records, "finished_at") if start <= t <= end)
        b_done = sum(1 for t in times(b_records, "finished_at") if start <= t <= end)
        assert a_done + b_done >= 200, (a_done, b_done)  # the window is not an accident
        # Team B's one run gets about the share of team A's four runs together (per run, as before,
        # it would get a fifth of the pool: a quarter of team A's).
        assert 0.6 <= b_done / a_done <= 1.67, (a_done, b_done)
        # And team A's runs share its turn evenly among themselves.
        per_a_run = [sum(1 for t in times(r, "finished_at") if start <= t <= end) for r in a_records]
        assert max(per_a_run) - min(per_a_run) <= max(4, 0.3 * max(per_a_run)), per_a_run
        # The pool's gauges, read when scraped, show it drained.
        metrics = (await gateway.get("/metrics")).text
        assert 'fmc_gateway_queued_items{pool="H100"} 0.0' in metrics
        in_flight = [line for line in metrics.splitlines() if line.startswith("fmc_gateway_in_flight{")]
        assert in_flight
        assert all(line.endswith(" 0.0") for line in in_flight), in_flight


class TestFairnessRecord:
    async def test_a_run_with_other_decoding_parameters_in_the_same_stage_and_suite_fails(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings, tmp_path: Path
    ) -> None:
        stage = uuid.uuid4()
        items, _ = write_items(tmp_path, 5)
        first = await request_run(gateway, auth_settings, run_body(items, 5, triton.grpc_url, stage_id=stage))
        other = await request_run(
            gateway, auth_settings, run_body(items, 5, triton.grpc_url, stage_id=stage, max_tokens=64)
        )
        assert other["status"] == "failed"
        assert other["failure_code"] == "unfair-parameters"
        assert str(first["id"]) in other["status_reason"]
        same = await request_run(gateway, auth_settings, run_body(items, 5, triton.grpc_url, stage_id=stage))
        assert same["status"] == "pending"

    async def test_every_run_records_its_pool_hardware_and_versions(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings, tmp_path: Path
    ) -> None:
        items, _ = write_items(tmp_path, 3)
        run = await request_run(gateway, auth_settings, run_body(items, 3, triton.grpc_url, pool="B200"))
        done = await wait_for_run(gateway, auth_settings, run["id"], finished)
        assert done["gpu_pool"] == "B200"
        assert done["hardware_class"] == "NVIDIA B200 192GB"
        assert done["server_version"] == "2.51.0"
        assert done["model_version"] == "1"
        assert done["decoding"] == {"max_tokens": 4, "temperature": 0.0, "top_p": 1.0, "seed": 0}
        records = await all_responses(gateway, auth_settings, run["id"])
        assert {(r["server_version"], r["model_version"]) for r in records} == {("2.51.0", "1")}

    async def test_two_teams_runs_record_comparable_conditions_in_the_read_view_and_the_completion_event(
        self,
        gateway: httpx.AsyncClient,
        triton: TritonProcess,
        auth_settings: AuthSettings,
        kafka_settings: KafkaSettings,
        tmp_path: Path,
    ) -> None:
        stage = uuid.uuid4()
        items, _ = write_items(tmp_path, 4)
        teams = [uuid.uuid4(), uuid.uuid4()]
        runs = [
            await request_run(
                gateway,
                auth_settings,
                run_body(items, 4, triton.grpc_url, stage_id=stage, team_id=team, max_tokens=3),
            )
            for team in teams
        ]
        conditions = []
        for run, team in zip(runs, teams, strict=True):
            await wait_for_run(gateway, auth_settings, run["id"], finished)
            # The team reads its own run's conditions; another team may not.
            own = await gateway.get(f"/v1/runs/{run['id']}", headers=bearer(auth_settings, Role.TEAM, team))
            assert own.status_code == 200
            other = await gateway.get(
                f"/v1/runs/{run['id']}", headers=bearer(auth_settings, Role.TEAM, uuid.uuid4())
            )
            assert other.status_code in (403, 404)
            conditions.append(own.json()["conditions"])
        assert (
            conditions[0]
            == conditions[1]
            == {
                "gpu_pool": "H100",
                "hardware_class": "NVIDIA H100 80GB",
                "serving_stack": "triton 2.51.0, backend python",
                "server_version": "2.51.0",
                "model_name": "demo-lm",
                "model_version": "1",
                "decoding": {"max_tokens": 3, "temperature": 0.0, "top_p": 1.0, "seed": 0},
                "limits": {"request_timeout_seconds": 10.0, "max_attempts": 3},
            }
        )
        for run in runs:
            events = await run_events(
                kafka_settings.bootstrap_servers,
                run["id"],
                lambda found: bool(of_type(found, "inference-run-completed")),
            )
            data = of_type(events, "inference-run-completed")[0].data
            assert (data["model_name"], data["serving_stack"]) == ("demo-lm", "triton 2.51.0, backend python")
            assert data["decoding"] == {"max_tokens": 3, "temperature": 0.0, "top_p": 1.0, "seed": 0}
            assert (data["gpu_pool"], data["server_version"], data["model_version"]) == (
                "H100",
                "2.51.0",
                "1",
            )
