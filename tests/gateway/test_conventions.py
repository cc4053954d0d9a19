"""Serving conventions against a real Triton: stand-ins with the exact tensor names and types of
Triton's vLLM backend (``vllm-lm``, decoupled) and TensorRT-LLM's ensemble (``trtllm-ensemble-lm``),
and Triton's generate extension. For each: the readiness check accepts the right signature and
refuses a mismatch with a clear reason; a run on an endpoint of that convention completes with the
answers recorded (token counts only where the server returns them, never invented)."""

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
from fmc_common.events.inference import (
    DecodingParameters,
    GpuPool,
    InferenceProtocol,
    InferenceRunRequested,
    ItemsSource,
    RunEndpoint,
    ServingConvention,
    SuiteReference,
)
from fmc_common.events.registry import SubmissionRegistered, TritonEndpoint
from fmc_common.events.topics import Topic
from fmc_common.settings import AuthSettings, KafkaSettings
from fmc_devrunner.triton import TritonProcess
from fmc_gateway.endpoints.readiness import check_endpoint
from fmc_gateway.triton.inference import EndpointAddress, FailureKind, InferenceFailure, ModelClient
from gateway.conftest import SettingsFactory
from gateway.helpers import (
    SUITE_HASH,
    all_responses,
    finished,
    request_run,
    run_body,
    wait_for_run,
    write_items,
)
from support.databases import DatabaseFactory
from support.kafka import envelope_bytes, produce_raw
from support.services import bearer

pytestmark = [pytest.mark.broker, pytest.mark.triton]

# (convention, model, protocol); the protocol picks the transport (gRPC stream, unary infer, HTTP generate).
CASES = [
    ("triton-vllm", "vllm-lm", "grpc"),
    ("triton-vllm", "vllm-lm", "http"),
    ("tensorrt-llm-ensemble", "trtllm-ensemble-lm", "grpc"),
    ("tensorrt-llm-ensemble", "trtllm-ensemble-lm", "http"),
    ("triton-generate", "vllm-lm", "http"),
    ("triton-generate", "trtllm-ensemble-lm", "http"),
]


def _url(triton: TritonProcess, protocol: str) -> str:
    return triton.grpc_url if protocol == "grpc" else triton.http_url


def _stand_in_answer(i: int, max_tokens: int) -> str:
    """What both stand-ins answer to item ``i`` of ``write_items``: the prompt's first words."""
    return " ".join(f"Question: what follows {i} and {i + 1} here".split()[:max_tokens])


async def _check(gateway: httpx.AsyncClient, auth: AuthSettings, endpoint: dict[str, Any]) -> dict[str, Any]:
    response = await gateway.post(
        "/v1/endpoints/check", json={"endpoint": endpoint}, headers=bearer(auth, Role.OPERATOR)
    )
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


class TestReadiness:
    @pytest.mark.parametrize(("convention", "model", "protocol"), CASES)
    async def test_the_right_signature_is_ready_and_names_the_inputs_sent(
        self,
        gateway: httpx.AsyncClient,
        triton: TritonProcess,
        auth_settings: AuthSettings,
        convention: str,
        model: str,
        protocol: str,
    ) -> None:
        endpoint = {
            "url": _url(triton, protocol),
            "model_name": model,
            "protocol": protocol,
            "gpu_pool": "H100",
            "convention": convention,
        }
        report = await _check(gateway, auth_settings, endpoint)
        assert report["ready"] is True, report["reason"]
        assert report["convention"] == convention
        assert report["sent_inputs"]["text_input"] == "BYTES"

    async def test_our_signature_checked_as_vllm_is_refused_with_each_difference(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings
    ) -> None:
        endpoint = {
            "url": triton.grpc_url,
            "model_name": "demo-lm",
            "gpu_pool": "H100",
            "convention": "triton-vllm",
        }
        report = await _check(gateway, auth_settings, endpoint)
        assert report["ready"] is False
        assert report["code"] == "model-contract-mismatch"
        assert "convention triton-vllm" in report["reason"]
        assert "missing input 'text_input' (BYTES, one element)" in report["violations"]
        assert "missing output 'text_output' (BYTES, one element)" in report["violations"]
        assert any(v.startswith("unexpected required input 'prompt'") for v in report["violations"])
        assert any(v.startswith("missing input 'sampling_parameters'") for v in report["violations"])

    async def test_the_vllm_model_checked_as_the_ensemble_is_refused_for_max_tokens_and_decoupling(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings
    ) -> None:
        endpoint = {
            "url": triton.grpc_url,
            "model_name": "vllm-lm",
            "gpu_pool": "H100",
            "convention": "tensorrt-llm-ensemble",
        }
        report = await _check(gateway, auth_settings, endpoint)
        assert report["ready"] is False
        assert report["violations"][0] == "missing input 'max_tokens' (INT32, one element)"
        assert report["violations"][1].startswith("the model is decoupled")

    async def test_the_ensemble_checked_as_our_signature_is_refused(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings
    ) -> None:
        endpoint = {"url": triton.grpc_url, "model_name": "trtllm-ensemble-lm", "gpu_pool": "H100"}
        report = await _check(gateway, auth_settings, endpoint)
        assert report["ready"] is False
        assert report["convention"] == "fmc-text"
        assert "missing input 'prompt' (BYTES, one element)" in report["violations"]
        assert "unexpected required input 'text_input'" in report["reason"]

    async def test_the_generate_extension_over_grpc_is_refused_as_http_only(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings
    ) -> None:
        endpoint = {
            "url": triton.grpc_url,
            "model_name": "vllm-lm",
            "gpu_pool": "H100",
            "convention": "triton-generate",
        }
        report = await _check(gateway, auth_settings, endpoint)
        assert report["ready"] is False
        assert report["violations"] == [
            "Triton's generate extension is HTTP only: register the endpoint with protocol http "
            "and Triton's HTTP port"
        ]


class TestRuns:
    @pytest.mark.parametrize(("convention", "model", "protocol"), CASES)
    async def test_a_run_on_the_convention_completes_with_every_answer_and_only_real_token_counts(
        self,
        gateway: httpx.AsyncClient,
        triton: TritonProcess,
        auth_settings: AuthSettings,
        tmp_path: Path,
        convention: str,
        model: str,
        protocol: str,
    ) -> None:
        items, _ = write_items(tmp_path, 40)
        body = run_body(items, 40, _url(triton, protocol), model=model, protocol=protocol, max_tokens=3)
        body["endpoint"]["convention"] = convention
        run = await request_run(gateway, auth_settings, body)

        done = await wait_for_run(gateway, auth_settings, run["id"], finished)

        assert done["status"] == "completed", done.get("status_reason")
        records = await all_responses(gateway, auth_settings, run["id"])
        assert [r["text"] for r in records] == [_stand_in_answer(i, 3) for i in range(40)]
        assert all(r["status"] == "ok" for r in records)
        counts = {(r["prompt_tokens"], r["completion_tokens"]) for r in records}
        if convention == "triton-vllm":
            # The backend's own counts, asked for because vllm-lm declares them (as vLLM r24.12+).
            assert counts == {(7, 3)}
        else:
            assert counts == {(None, None)}  # not returned: recorded as unknown, never invented
        endpoints = await gateway.get("/v1/endpoints", headers=bearer(auth_settings, Role.OPERATOR))
        [record] = [e for e in endpoints.json()["items"] if e["model_name"] == model]
        assert record["convention"] == convention

    async def test_a_mismatched_convention_fails_the_run_with_the_convention_named(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings, tmp_path: Path
    ) -> None:
        items, _ = write_items(tmp_path, 3)
        body = run_body(items, 3, triton.grpc_url, model="demo-lm")
        body["endpoint"]["convention"] = "tensorrt-llm-ensemble"
        run = await request_run(gateway, auth_settings, body)
        failed = await wait_for_run(gateway, auth_settings, run["id"], finished)
        assert failed["failure_code"] == "model-contract-mismatch"
        assert "convention tensorrt-llm-ensemble" in failed["status_reason"]
        assert "missing input 'text_input' (BYTES, one element)" in failed["status_reason"]

    async def test_an_unknown_convention_is_refused_at_the_request(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings, tmp_path: Path
    ) -> None:
        items, _ = write_items(tmp_path, 1)
        body = run_body(items, 1, triton.grpc_url)
        body["endpoint"]["convention"] = "openai-ish"
        response = await gateway.post("/v1/runs", json=body, headers=bearer(auth_settings, Role.SERVICE))
        assert response.status_code == 422


class TestFromTheRegistry:
    async def test_a_submission_s_convention_reaches_the_endpoint_record_and_the_requested_run_uses_it(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        gateway_factory: Callable[..., Any],
        triton: TritonProcess,
        auth_settings: AuthSettings,
        kafka_settings: KafkaSettings,
        tmp_path: Path,
    ) -> None:
        settings = gateway_settings(await database_factory.create("gateway"), intake_enabled=True)
        gateway: httpx.AsyncClient = await gateway_factory(settings)
        items, sha256 = write_items(tmp_path, 20)
        submission, team = uuid.uuid4(), uuid.uuid4()
        registered = SubmissionRegistered(
            submission_id=submission,
            stage_id=uuid.uuid4(),
            team_id=team,
            version=1,
            endpoint=TritonEndpoint(
                url=triton.grpc_url,
                model_name="vllm-lm",
                model_version="",
                protocol="grpc",
                gpu_pool="H100",
                convention="triton-vllm",
            ),
            manifest_digest="sha256:" + hashlib.sha256(b"weights").hexdigest(),
            registered_at=datetime.now(UTC),
        )
        request = InferenceRunRequested(
            run_id=uuid.uuid4(),
            stage_id=registered.stage_id,
            submission_id=submission,
            team_id=team,
            endpoint=RunEndpoint(
                url=triton.grpc_url,
                model_name="vllm-lm",
                protocol=InferenceProtocol.GRPC,
                gpu_pool=GpuPool.H100,
                convention=ServingConvention.TRITON_VLLM,
            ),
            suite=SuiteReference(suite_id="demo-en", version="1", content_hash=SUITE_HASH),
            items=ItemsSource(uri=items.as_uri(), item_count=20, sha256=sha256),
            decoding=DecodingParameters(max_tokens=2),
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

        assert done["status"] == "completed", done.get("status_reason")
        records = await all_responses(gateway, auth_settings, str(request.run_id))
        assert [r["text"] for r in records] == [_stand_in_answer(i, 2) for i in range(20)]
        known = (await gateway.get("/v1/endpoints", headers=bearer(auth_settings, Role.OPERATOR))).json()
        [row] = [e for e in known["items"] if e["model_name"] == "vllm-lm"]
        assert row["convention"] == "triton-vllm"
        assert row["submission_id"] == str(submission)


class TestTransportFailures:
    """A down server or an unloaded model is the endpoint's state on every transport: items wait."""

    @pytest.mark.parametrize(
        ("convention", "protocol"),
        [("triton-vllm", "grpc"), ("triton-vllm", "http"), ("triton-generate", "http")],
    )
    async def test_an_unreachable_server_is_endpoint_down_not_an_item_error(
        self, nowhere: str, convention: str, protocol: str
    ) -> None:
        address = EndpointAddress(
            nowhere, InferenceProtocol(protocol), "vllm-lm", "", ServingConvention(convention)
        )
        client = ModelClient(address, {"text_input": "BYTES"})
        try:
            with pytest.raises(InferenceFailure) as failure:
                await client.infer("hello", DecodingParameters(max_tokens=2), 5)
        finally:
            await client.close()
        assert failure.value.kind == FailureKind.ENDPOINT_DOWN

    @pytest.mark.parametrize("protocol", ["grpc", "http"])
    async def test_a_model_that_is_not_loaded_is_endpoint_down_on_the_stream_and_generate(
        self, triton: TritonProcess, protocol: str
    ) -> None:
        address = EndpointAddress(
            _url(triton, protocol),
            InferenceProtocol(protocol),
            "no-such-lm",
            "",
            ServingConvention.TRITON_VLLM,
        )
        client = ModelClient(address, {"text_input": "BYTES"})
        try:
            with pytest.raises(InferenceFailure) as failure:
                await client.infer("hello", DecodingParameters(max_tokens=2), 5)
        finally:
            await client.close()
        assert failure.value.kind == FailureKind.ENDPOINT_DOWN


class TestStreaming:
    """The vLLM backend over gRPC streams: each piece handed on as it arrives, time to first token kept."""

    async def _client(self, triton: TritonProcess, protocol: str, convention: str) -> ModelClient:
        address = EndpointAddress(
            _url(triton, protocol), InferenceProtocol(protocol), "vllm-lm", "", ServingConvention(convention)
        )
        readiness = await check_endpoint(address, None, 10)
        assert readiness.ok, readiness.reason
        return ModelClient(address, readiness.datatypes, readiness.batched)

    async def test_the_pieces_arrive_in_order_joined_into_the_answer_with_time_to_first_token(
        self, triton: TritonProcess
    ) -> None:
        client = await self._client(triton, "grpc", "triton-vllm")
        pieces: list[str] = []
        try:
            answer = await client.infer(
                "one two three four five", DecodingParameters(max_tokens=4), 10, pieces.append
            )
        finally:
            await client.close()
        assert pieces == ["one", " two", " three", " four"]
        assert answer.text == "one two three four"
        assert answer.ttft_seconds is not None
        assert 0 < answer.ttft_seconds <= answer.latency_seconds
        # Every piece repeats the prompt's count and counts its own token, as vLLM's backend does.
        assert (answer.prompt_tokens, answer.completion_tokens) == (5, 4)
        assert answer.model_version == "1"

    @pytest.mark.parametrize("convention", ["triton-vllm", "triton-generate"])
    async def test_over_http_the_answer_comes_whole_and_has_no_time_to_first_token(
        self, triton: TritonProcess, convention: str
    ) -> None:
        client = await self._client(triton, "http", convention)
        pieces: list[str] = []
        try:
            answer = await client.infer(
                "one two three four five", DecodingParameters(max_tokens=4), 10, pieces.append
            )
        finally:
            await client.close()
        assert pieces == ["one two three four"] == [answer.text]
        assert answer.ttft_seconds is None
