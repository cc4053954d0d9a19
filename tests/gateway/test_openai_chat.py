"""The ``openai-chat`` convention against a REAL OpenAI-compatible server: llama-cpp-python's, on the CPU.

The server serves a tiny llama-architecture GGUF model the fixture writes (``support.llama_server``):
it renders the request's messages with the model's own chat template and streams the answer as
server-sent events. Its answer is " hi" on every step (greedy decoding on weights made so), which
lets the tests check the streamed text exactly. llama-cpp-python 0.3.36 streams no usage chunk
(it ignores ``stream_options``), so token counts stay unknown: recorded as such, never invented.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from fmc_common.auth import Role
from fmc_common.events.inference import DecodingParameters, InferenceProtocol, ServingConvention
from fmc_common.settings import AuthSettings
from fmc_devrunner.ports import free_port
from fmc_gateway.serving.openai_chat import OpenAiChat
from fmc_gateway.serving.prompts import ChatMessage, Prompt
from fmc_gateway.triton.inference import EndpointAddress, FailureKind, InferenceFailure, ModelClient
from gateway.conftest import SettingsFactory
from gateway.helpers import all_responses, finished, request_run, run_body, wait_for_run, write_items
from support.databases import DatabaseFactory
from support.llama_server import LlamaServer, llama_server
from support.services import bearer

pytestmark = [pytest.mark.broker, pytest.mark.triton]


@pytest.fixture(scope="module")
async def llama(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LlamaServer]:
    async with llama_server(tmp_path_factory.mktemp("llama")) as server:
        yield server


@pytest.fixture
async def openai_gateway(
    database_factory: DatabaseFactory,
    gateway_settings: SettingsFactory,
    gateway_factory: Callable[..., Any],
    llama: LlamaServer,
    nowhere: str,
) -> httpx.AsyncClient:
    """A gateway (SQLite and PostgreSQL) allowed to connect to the llama server and to ``nowhere``."""
    settings = gateway_settings(
        await database_factory.create("gateway"), triton_allowed_hosts=[llama.url, nowhere]
    )
    client: httpx.AsyncClient = await gateway_factory(settings)
    return client


def _client(url: str, model: str) -> ModelClient:
    address = EndpointAddress(url, InferenceProtocol.HTTP, model, "", ServingConvention.OPENAI_CHAT)
    return ModelClient(address, {})


def _endpoint(url: str, model: str, protocol: str = "http") -> dict[str, Any]:
    return {
        "url": url,
        "model_name": model,
        "protocol": protocol,
        "gpu_pool": "H100",
        "convention": "openai-chat",
    }


class TestModelClient:
    async def test_a_text_prompt_is_streamed_piece_by_piece_with_its_time_to_first_token(
        self, llama: LlamaServer
    ) -> None:
        client = _client(llama.url, llama.model)
        pieces: list[str] = []
        try:
            answer = await client.infer(
                "Question: what follows 1 and 2 here", DecodingParameters(max_tokens=3), 30, pieces.append
            )
        finally:
            await client.close()
        assert answer.text == " hi hi hi"
        assert pieces == [" hi", " hi", " hi"]
        assert answer.ttft_seconds is not None
        assert 0 < answer.ttft_seconds <= answer.latency_seconds
        # llama-cpp-python streams no usage: unknown, never invented.
        assert (answer.prompt_tokens, answer.completion_tokens) == (None, None)

    async def test_chat_messages_of_several_turns_are_answered_through_the_model_s_template(
        self, llama: LlamaServer
    ) -> None:
        prompt = Prompt(
            messages=(
                ChatMessage("system", "You answer briefly."),
                ChatMessage("user", "Say hi."),
                ChatMessage("assistant", "hi"),
                ChatMessage("user", "Again, twice."),
            )
        )
        client = _client(llama.url, llama.model)
        try:
            answer = await client.infer(prompt, DecodingParameters(max_tokens=2, seed=3), 30)
        finally:
            await client.close()
        assert answer.text == " hi hi"
        assert "Using gguf chat template" in llama.log.read_text()

    async def test_a_prompt_beyond_the_model_s_context_is_that_item_s_error_not_an_outage(
        self, llama: LlamaServer
    ) -> None:
        # llama.cpp accepts the request, then ends the event stream without a chunk (its log says
        # the context is exceeded): the answer is invalid, the item's own error.
        client = _client(llama.url, llama.model)
        try:
            with pytest.raises(InferenceFailure) as failure:
                await client.infer("word " * 300, DecodingParameters(max_tokens=2), 30)
        finally:
            await client.close()
        assert failure.value.kind == FailureKind.MODEL_ERROR
        assert failure.value.message == "invalid-answer: the stream ended without a chunk"
        fresh = _client(llama.url, llama.model)
        try:
            assert (await fresh.infer("Say hi.", DecodingParameters(max_tokens=1), 30)).text == " hi"
        finally:
            await fresh.close()

    async def test_a_refused_request_is_the_item_s_error_in_the_server_s_words(
        self, llama: LlamaServer
    ) -> None:
        # A body the server's schema refuses (422, FastAPI's validation): a messages list whose turn
        # has no content. Built through the convention's own request, then sent as the client does.
        client = _client(llama.url, llama.model)
        client._convention = _NoContent()
        try:
            with pytest.raises(InferenceFailure) as failure:
                await client.infer("hello", DecodingParameters(max_tokens=2), 30)
        finally:
            await client.close()
        assert failure.value.kind == FailureKind.MODEL_ERROR
        assert "messages" in failure.value.message

    async def test_a_server_that_refuses_connections_is_endpoint_down(self, nowhere: str) -> None:
        client = _client(nowhere, "anything")
        try:
            with pytest.raises(InferenceFailure) as failure:
                await client.infer("hello", DecodingParameters(max_tokens=2), 5)
            assert not await client.ready(2)
        finally:
            await client.close()
        assert failure.value.kind == FailureKind.ENDPOINT_DOWN


class _NoContent(OpenAiChat):
    """The openai-chat convention with a body the server's schema refuses (a turn without content)."""

    def request(
        self, prompt: Prompt, decoding: DecodingParameters, datatypes: Mapping[str, str], stream: bool
    ) -> dict[str, Any]:
        return super().request(prompt, decoding, datatypes, stream) | {"messages": [{"role": "user"}]}


class TestReadiness:
    async def test_the_server_is_ready_when_it_lists_the_model(
        self, openai_gateway: httpx.AsyncClient, llama: LlamaServer, auth_settings: AuthSettings
    ) -> None:
        report = await _check(openai_gateway, auth_settings, _endpoint(llama.url, llama.model))
        assert report["ready"] is True, report["reason"]
        assert report["convention"] == "openai-chat"

    async def test_a_model_name_the_server_does_not_list_is_a_mismatch_naming_what_it_serves(
        self, openai_gateway: httpx.AsyncClient, llama: LlamaServer, auth_settings: AuthSettings
    ) -> None:
        report = await _check(openai_gateway, auth_settings, _endpoint(llama.url, "team-7-chat"))
        assert report["ready"] is False
        assert report["code"] == "model-contract-mismatch"
        assert report["violations"] == [
            f"the server at {llama.url} serves models ['{llama.model}']; the endpoint names 'team-7-chat'"
        ]
        assert "convention openai-chat" in report["reason"]

    async def test_grpc_is_refused_because_the_convention_is_http(
        self, openai_gateway: httpx.AsyncClient, llama: LlamaServer, auth_settings: AuthSettings
    ) -> None:
        endpoint = _endpoint(llama.host_port, llama.model, protocol="grpc")
        report = await _check(openai_gateway, auth_settings, endpoint)
        assert report["ready"] is False
        [problem] = report["violations"]
        assert problem.startswith("an OpenAI-compatible server speaks HTTP")

    async def test_a_server_that_wants_an_api_key_is_refused_as_the_gateway_sends_none(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        gateway_factory: Callable[..., Any],
        auth_settings: AuthSettings,
        tmp_path: Path,
    ) -> None:
        async with llama_server(tmp_path, api_key="team-secret") as server:
            settings = gateway_settings(
                await database_factory.create("gateway"), triton_allowed_hosts=[server.url]
            )
            gateway: httpx.AsyncClient = await gateway_factory(settings)
            report = await _check(gateway, auth_settings, _endpoint(server.url, server.model))
            client = _client(server.url, server.model)
            try:
                with pytest.raises(InferenceFailure) as failure:
                    await client.infer("hello", DecodingParameters(max_tokens=1), 30)
            finally:
                await client.close()
        assert report["code"] == "model-contract-mismatch"
        assert report["violations"] == [
            f"the server at {server.url} asks for a credential (GET /v1/models answered HTTP 401); "
            "the gateway sends none: serve the model without an API key"
        ]
        # Had an item been sent, the refusal would be its error, in the server's words.
        assert failure.value.kind == FailureKind.MODEL_ERROR
        assert "API key" in failure.value.message


class TestRuns:
    async def test_a_run_completes_with_every_streamed_answer_and_the_server_s_stack(
        self,
        openai_gateway: httpx.AsyncClient,
        llama: LlamaServer,
        auth_settings: AuthSettings,
        tmp_path: Path,
    ) -> None:
        items, sha = write_items(tmp_path, 12)
        body = run_body(items, 12, llama.url, sha256=sha, model=llama.model, protocol="http", max_tokens=2)
        body["endpoint"]["convention"] = "openai-chat"
        run = await request_run(openai_gateway, auth_settings, body)

        done = await wait_for_run(openai_gateway, auth_settings, run["id"], finished, timeout=90)

        assert done["status"] == "completed", done.get("status_reason")
        assert done["conditions"]["serving_stack"] == "openai-compatible (uvicorn), model owned_by me"
        records = await all_responses(openai_gateway, auth_settings, run["id"])
        assert [r["text"] for r in records] == [" hi hi"] * 12
        assert all(r["status"] == "ok" for r in records)
        assert {(r["prompt_tokens"], r["completion_tokens"]) for r in records} == {(None, None)}

    async def test_chat_items_reach_the_server_as_messages_and_each_answer_is_timed(
        self,
        openai_gateway: httpx.AsyncClient,
        llama: LlamaServer,
        auth_settings: AuthSettings,
        tmp_path: Path,
    ) -> None:
        items = tmp_path / "chat.jsonl"
        conversation = [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello."},
            {"role": "user", "content": "Say hi."},
        ]
        lines = [{"item_id": "chat-0", "messages": conversation}, {"item_id": "plain-1", "prompt": "Say hi."}]
        items.write_text("".join(json.dumps(line) + "\n" for line in lines))
        body = run_body(items, 2, llama.url, model=llama.model, protocol="http", max_tokens=2)
        body["endpoint"]["convention"] = "openai-chat"
        run = await request_run(openai_gateway, auth_settings, body)

        done = await wait_for_run(openai_gateway, auth_settings, run["id"], finished, timeout=90)

        assert done["status"] == "completed", done.get("status_reason")
        records = {r["item_id"]: r for r in await all_responses(openai_gateway, auth_settings, run["id"])}
        assert [records[i]["text"] for i in ("chat-0", "plain-1")] == [" hi hi", " hi hi"]
        # Streamed: the time to first token is known and within the item's latency.
        for record in records.values():
            assert record["ttft_ms"] is not None
            assert 0 < record["ttft_ms"] <= record["latency_ms"]
        efficiency = done["efficiency"]
        assert (efficiency["items_timed"], efficiency["items_streamed"]) == (2, 2)
        assert efficiency["ttft_ms_p50"] is not None

    async def test_an_item_beyond_the_context_becomes_its_own_error_and_the_others_complete(
        self,
        openai_gateway: httpx.AsyncClient,
        llama: LlamaServer,
        auth_settings: AuthSettings,
        tmp_path: Path,
    ) -> None:
        items = tmp_path / "items.jsonl"
        prompts = ["Say hi.", "word " * 300, "Say hi again."]
        items.write_text(
            "".join(json.dumps({"item_id": f"item-{i}", "prompt": p}) + "\n" for i, p in enumerate(prompts))
        )
        body = run_body(items, 3, llama.url, model=llama.model, protocol="http", max_tokens=1)
        body["endpoint"]["convention"] = "openai-chat"
        run = await request_run(openai_gateway, auth_settings, body)

        done = await wait_for_run(openai_gateway, auth_settings, run["id"], finished, timeout=90)

        assert done["status"] == "completed", done.get("status_reason")
        records = {r["item_id"]: r for r in await all_responses(openai_gateway, auth_settings, run["id"])}
        assert (records["item-0"]["status"], records["item-0"]["text"]) == ("ok", " hi")
        assert (records["item-2"]["status"], records["item-2"]["text"]) == ("ok", " hi")
        assert records["item-1"]["status"] == "error"
        assert records["item-1"]["error"] == "invalid-answer: the stream ended without a chunk"

    async def test_a_run_on_a_server_that_refuses_connections_waits(
        self, openai_gateway: httpx.AsyncClient, nowhere: str, auth_settings: AuthSettings, tmp_path: Path
    ) -> None:
        items, sha = write_items(tmp_path, 3)
        body = run_body(items, 3, f"http://{nowhere}", sha256=sha, model="chat", protocol="http")
        body["endpoint"]["convention"] = "openai-chat"
        await request_run(openai_gateway, auth_settings, body)

        run = await wait_for_run(
            openai_gateway, auth_settings, body["run_id"], lambda r: r["status"] == "waiting"
        )

        assert "did not answer GET /v1/models" in run["status_reason"]


class TestOutage:
    async def test_a_server_that_dies_mid_run_pauses_the_run_and_it_completes_when_it_is_back(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        gateway_factory: Callable[..., Any],
        auth_settings: AuthSettings,
        tmp_path: Path,
    ) -> None:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        settings = gateway_settings(await database_factory.create("gateway"), triton_allowed_hosts=[url])
        gateway: httpx.AsyncClient = await gateway_factory(settings)
        items, sha = write_items(tmp_path, 200)
        body = run_body(items, 200, url, sha256=sha, model="fmc-tiny-chat", protocol="http", max_tokens=2)
        body["endpoint"]["convention"] = "openai-chat"
        async with llama_server(tmp_path, port) as server:
            await request_run(gateway, auth_settings, body)
            await wait_for_run(
                gateway, auth_settings, body["run_id"], lambda r: r["answered"] >= 20, interval=0.02
            )
            server.kill()
            waiting = await wait_for_run(
                gateway, auth_settings, body["run_id"], lambda r: r["status"] == "waiting"
            )
        assert "OpenAI-compatible endpoint" in waiting["status_reason"]
        assert "is not answering (circuit open since" in waiting["status_reason"]
        assert waiting["answered"] < 200

        async with llama_server(tmp_path, port):
            done = await wait_for_run(gateway, auth_settings, body["run_id"], finished, timeout=120)

        assert (done["status"], done["answered"], done["errored"]) == ("completed", 200, 0)
        records = await all_responses(gateway, auth_settings, body["run_id"])
        assert {(r["status"], r["text"]) for r in records} == {("ok", " hi hi")}


async def _check(gateway: httpx.AsyncClient, auth: AuthSettings, endpoint: dict[str, Any]) -> dict[str, Any]:
    response = await gateway.post(
        "/v1/endpoints/check", json={"endpoint": endpoint}, headers=bearer(auth, Role.OPERATOR)
    )
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report
