"""Log-likelihood runs: each choice scored after its context, on the real Triton (the ``loglik-lm``
stand-in) and the real OpenAI-compatible server (llama-cpp-python's ``/v1/completions`` with ``echo``
and ``logprobs``), and refused before the first item on an endpoint that gives no log-probabilities."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from fmc_common.events.inference import DecodingParameters, InferenceProtocol, ServingConvention
from fmc_common.settings import AuthSettings
from fmc_devrunner.triton import TritonProcess
from fmc_gateway.serving.loglikelihood import completions_loglikelihood
from fmc_gateway.serving.protocol import ReplyInvalid
from fmc_gateway.triton.inference import EndpointAddress, FailureKind, InferenceFailure, ModelClient
from gateway.conftest import SettingsFactory
from gateway.helpers import all_responses, finished, request_run, run_body, wait_for_run
from support.databases import DatabaseFactory
from support.llama_server import LlamaServer, llama_server

pytestmark = [pytest.mark.triton]

ITEMS = [
    {"item_id": "capital", "context": "The capital of Korea is", "continuations": [" Busan", " Seoul"]},
    {"item_id": "sum", "context": "Question: 2 + 2 =\nAnswer:", "continuations": [" 4", " five"]},
]


def write_loglikelihood_items(directory: Path, items: list[dict[str, Any]]) -> Path:
    path = directory / "loglikelihood.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    return path


def loglikelihood_body(items: Path, count: int, url: str, **options: Any) -> dict[str, Any]:
    return run_body(items, count, url, **options) | {"scoring": "loglikelihood"}


def word(text: str, preferred: bool = False) -> float:
    """loglik-lm's log-prob of one word (its model.py)."""
    return -0.2 if preferred else -1.0 - 0.05 * len(text.encode("utf-8"))


@pytest.fixture(scope="module")
async def llama(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LlamaServer]:
    async with llama_server(tmp_path_factory.mktemp("llama")) as server:
        yield server


class TestTritonExtension:
    async def test_each_continuation_is_scored_by_the_model_over_grpc_and_http(
        self, triton: TritonProcess
    ) -> None:
        for url, protocol in (
            (triton.grpc_url, InferenceProtocol.GRPC),
            (triton.http_url, InferenceProtocol.HTTP),
        ):
            client = ModelClient(
                EndpointAddress(url, protocol, "loglik-lm"), {"prompt": "BYTES", "max_tokens": "INT32"}
            )
            try:
                answer = await client.loglikelihoods(
                    "The capital of Korea is", [" Busan", " Seoul", " New York"], DecodingParameters(), 10
                )
            finally:
                await client.close()
            scores = json.loads(answer.text)["loglikelihoods"]
            assert [s["tokens"] for s in scores] == [1, 1, 2]
            expected = [word("Busan"), word("Seoul", preferred=True), word("New") + word("York")]
            assert [s["logprob"] for s in scores] == pytest.approx(expected, abs=1e-6)
            assert answer.model_version == "1"

    async def test_a_model_without_the_extension_is_the_model_s_error(self, triton: TritonProcess) -> None:
        client = ModelClient(
            EndpointAddress(triton.grpc_url, InferenceProtocol.GRPC, "demo-lm"), {"prompt": "BYTES"}
        )
        try:
            with pytest.raises(InferenceFailure) as failure:
                await client.loglikelihoods("x", [" y"], DecodingParameters(), 10)
        finally:
            await client.close()
        assert failure.value.kind == FailureKind.MODEL_ERROR
        assert "unexpected inference output 'log_probs'" in failure.value.message


class TestRuns:
    async def test_a_loglikelihood_run_records_each_choice_s_log_probs(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings, tmp_path: Path
    ) -> None:
        items = write_loglikelihood_items(tmp_path, ITEMS)
        body = loglikelihood_body(items, 2, triton.grpc_url, model="loglik-lm")
        run = await request_run(gateway, auth_settings, body)
        done = await wait_for_run(gateway, auth_settings, run["id"], finished)
        assert done["status"] == "completed", done["status_reason"]
        records = {
            r["item_id"]: json.loads(r["text"])["loglikelihoods"]
            for r in await all_responses(gateway, auth_settings, run["id"])
        }
        assert records["capital"] == [
            {"logprob": pytest.approx(word("Busan")), "tokens": 1},
            {"logprob": pytest.approx(-0.2), "tokens": 1},
        ]
        assert records["sum"] == [
            {"logprob": pytest.approx(-0.2), "tokens": 1},
            {"logprob": pytest.approx(word("five")), "tokens": 1},
        ]

    async def test_an_endpoint_without_log_probs_fails_the_run_before_its_first_item(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings, tmp_path: Path
    ) -> None:
        items = write_loglikelihood_items(tmp_path, ITEMS)
        run = await request_run(gateway, auth_settings, loglikelihood_body(items, 2, triton.grpc_url))
        failed = await wait_for_run(gateway, auth_settings, run["id"], finished)
        assert failed["failure_code"] == "model-contract-mismatch"
        reason = failed["status_reason"]
        assert "model 'demo-lm'" in reason
        assert "cannot give log-probabilities" in reason
        assert "'continuation'" in reason
        assert "'log_probs'" in reason
        assert failed["answered"] == 0

    async def test_items_and_scoring_must_agree(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings, tmp_path: Path
    ) -> None:
        items = write_loglikelihood_items(tmp_path, ITEMS)
        run = await request_run(
            gateway, auth_settings, run_body(items, 2, triton.grpc_url, model="loglik-lm")
        )
        failed = await wait_for_run(gateway, auth_settings, run["id"], finished)
        assert failed["failure_code"] == "items-invalid"
        assert "only a run requested with scoring loglikelihood" in failed["status_reason"]
        prompts = tmp_path / "prompts.jsonl"
        prompts.write_text('{"item_id": "q", "prompt": "2+2?"}\n', encoding="utf-8")
        body = loglikelihood_body(prompts, 1, triton.grpc_url, model="loglik-lm")
        failed = await wait_for_run(
            gateway, auth_settings, (await request_run(gateway, auth_settings, body))["id"], finished
        )
        assert failed["failure_code"] == "items-invalid"
        assert (
            "a loglikelihood run takes items of item_id, context and continuations" in failed["status_reason"]
        )


class TestOpenAiCompletions:
    async def test_llama_cpp_echoes_log_probs_and_the_continuation_is_found_by_offsets(
        self, llama: LlamaServer
    ) -> None:
        # The tiny model gives its answer piece " hi" probability 1 (log-prob 0) and every other
        # piece about e^-64; llama.cpp's offsets count a leading space it adds: aligned by the echo's end.
        address = EndpointAddress(
            llama.url, InferenceProtocol.HTTP, llama.model, "", ServingConvention.OPENAI_CHAT
        )
        client = ModelClient(address, {})
        try:
            answer = await client.loglikelihoods(
                "Q: the A:", [" hi", " the", " hi hi"], DecodingParameters(), 30
            )
        finally:
            await client.close()
        hi, the, twice = json.loads(answer.text)["loglikelihoods"]
        assert hi == {"logprob": pytest.approx(0.0, abs=1e-3), "tokens": 1}
        assert the["tokens"] == 4  # " ", "t", "h", "e": this vocabulary spells it piece by piece
        assert the["logprob"] < -30
        assert twice == {"logprob": pytest.approx(0.0, abs=1e-3), "tokens": 2}

    async def test_a_loglikelihood_run_on_the_server(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        gateway_factory: Callable[..., Any],
        llama: LlamaServer,
        auth_settings: AuthSettings,
        tmp_path: Path,
    ) -> None:
        settings = gateway_settings(
            await database_factory.create("gateway"), triton_allowed_hosts=[llama.url]
        )
        gateway: httpx.AsyncClient = await gateway_factory(settings)
        items = write_loglikelihood_items(
            tmp_path, [{"item_id": "q", "context": "Say it:", "continuations": [" the", " hi"]}]
        )
        body = loglikelihood_body(items, 1, llama.url, model=llama.model, protocol="http")
        body["endpoint"]["convention"] = "openai-chat"
        run = await request_run(gateway, auth_settings, body)
        done = await wait_for_run(gateway, auth_settings, run["id"], finished)
        assert done["status"] == "completed", done["status_reason"]
        [record] = await all_responses(gateway, auth_settings, run["id"])
        the, hi = json.loads(record["text"])["loglikelihoods"]
        assert hi["logprob"] > the["logprob"]

    def test_a_completion_without_echoed_log_probs_is_an_invalid_answer(self) -> None:
        body = {"choices": [{"text": "x", "logprobs": None}]}
        with pytest.raises(ReplyInvalid, match="no echoed logprobs"):
            completions_loglikelihood(body, "a", " b")

    def test_offsets_from_zero_as_openai_and_vllm_give_them(self) -> None:
        logprobs = {
            "text_offset": [0, 3, 7, 10],
            "token_logprobs": [None, -1.5, -0.25, -9.0],
            "tokens": ["The", " sky", " is", " blue"],
        }
        body = {"choices": [{"logprobs": logprobs}], "usage": {"completion_tokens": 1}}
        answer = completions_loglikelihood(body, "The sky", " is")
        assert (answer.logprob, answer.tokens) == (-0.25, 1)
        assert math.isclose(completions_loglikelihood(body, "The", " sky is").logprob, -1.75)
