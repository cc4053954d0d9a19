"""gRPC: GetRun and StreamResponses (server streaming) over the same records as REST."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest

from fmc_common.auth import Role
from fmc_common.settings import AuthSettings
from fmc_devrunner.triton import TritonProcess
from fmc_gateway.runs.hashing import responses_digest
from fmc_protos.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from gateway.conftest import SettingsFactory
from gateway.helpers import finished, request_run, run_body, wait_for_run, write_items
from support.databases import DatabaseFactory
from support.services import bearer

pytestmark = [pytest.mark.broker, pytest.mark.triton]


class TestGrpcRuns:
    async def test_the_responses_stream_in_item_order_and_resume_from_a_position(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        gateway_factory: Callable[..., Any],
        triton: TritonProcess,
        auth_settings: AuthSettings,
        tmp_path: Path,
    ) -> None:
        settings = gateway_settings(await database_factory.create("gateway"))
        gateway = await gateway_factory(settings)
        team = uuid.uuid4()
        items, _ = write_items(tmp_path, 1200)
        run = await request_run(gateway, auth_settings, run_body(items, 1200, triton.grpc_url, team_id=team))
        done = await wait_for_run(gateway, auth_settings, run["id"], finished)
        service = (("authorization", bearer(auth_settings, Role.SERVICE)["Authorization"]),)

        async with grpc.aio.insecure_channel(f"127.0.0.1:{settings.grpc_port}") as channel:
            stub = gateway_pb2_grpc.InferenceGatewayServiceStub(channel)
            got = await stub.GetRun(gateway_pb2.GetRunRequest(run_id=run["id"]), metadata=service)
            stream = stub.StreamResponses(
                gateway_pb2.StreamResponsesRequest(run_id=run["id"]), metadata=service
            )
            streamed = [response async for response in stream]
            resumed = [
                r
                async for r in stub.StreamResponses(
                    gateway_pb2.StreamResponsesRequest(run_id=run["id"], start_seq=1150), metadata=service
                )
            ]
            other_team = (("authorization", bearer(auth_settings, Role.TEAM, uuid.uuid4())["Authorization"]),)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.GetRun(gateway_pb2.GetRunRequest(run_id=run["id"]), metadata=other_team)
            with pytest.raises(grpc.aio.AioRpcError) as missing:
                await stub.GetRun(gateway_pb2.GetRunRequest(run_id=str(uuid.uuid4())), metadata=service)

        assert got.status == "completed"
        assert got.responses_sha256 == done["responses_sha256"]
        assert [r.seq for r in streamed] == list(range(1200))
        assert (
            responses_digest((r.item_id, r.status, r.text, r.error or None) for r in streamed)
            == done["responses_sha256"]
        )
        assert [r.seq for r in resumed] == list(range(1150, 1200))
        # Unknown timings stay absent (not 0); the run's summary is the REST one.
        assert not any(r.HasField("ttft_ms") for r in streamed)
        assert all(r.HasField("tokens_per_second") and r.tokens_per_second > 0 for r in streamed)
        assert got.HasField("efficiency")
        assert got.efficiency.items_timed == done["efficiency"]["items_timed"] == 1200
        assert not got.efficiency.HasField("ttft_ms_p50")
        assert got.efficiency.latency_ms_p95 == done["efficiency"]["latency_ms_p95"]
        assert got.efficiency.tokens_per_second_median == done["efficiency"]["tokens_per_second_median"]
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
