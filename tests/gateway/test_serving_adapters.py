"""The serving conventions' adapters (pure): the request each builds, the answer each reads, its rules."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from fmc_common.events.inference import DecodingParameters, ServingConvention
from fmc_gateway.serving.conventions import (
    CONVENTIONS,
    ReplyInvalid,
    TensorConvention,
    Transport,
    convention_of,
    tensors_of,
)
from fmc_gateway.serving.openai_chat import EventReader, chunk_of, served_models, serving_stack
from fmc_gateway.serving.prompts import ChatMessage, Prompt
from fmc_gateway.serving.protocol import Reply
from fmc_gateway.serving.signature import ModelSignature, TensorSpec, signature_from_triton
from fmc_gateway.triton.inference import http_refusal

DECODING = DecodingParameters(max_tokens=7, temperature=0.5, top_p=0.9, seed=11)

VLLM = ModelSignature(
    inputs=(
        TensorSpec("text_input", "BYTES", (1,)),
        TensorSpec("stream", "BOOL", (1,), optional=True),
        TensorSpec("sampling_parameters", "BYTES", (1,), optional=True),
        TensorSpec("exclude_input_in_output", "BOOL", (1,), optional=True),
    ),
    outputs=(TensorSpec("text_output", "BYTES", (-1,)),),
    decoupled=True,
)
ENSEMBLE = ModelSignature(
    inputs=(
        TensorSpec("text_input", "BYTES", (-1, -1)),
        TensorSpec("max_tokens", "INT32", (-1, -1)),
        TensorSpec("bad_words", "BYTES", (-1, -1), optional=True),
        TensorSpec("temperature", "FP32", (-1, 1), optional=True),
        TensorSpec("top_p", "FP32", (-1, 1), optional=True),
        TensorSpec("random_seed", "UINT64", (-1, 1), optional=True),
    ),
    outputs=(TensorSpec("text_output", "BYTES", (-1, -1)), TensorSpec("cum_log_probs", "FP32", (-1, -1))),
    max_batch_size=64,
)


def _adapter(name: str) -> TensorConvention:
    adapter = tensors_of(name)
    assert adapter is not None
    return adapter


def _bytes(text: str) -> np.ndarray[Any, Any]:
    return np.array([text.encode()], dtype=np.object_)


class TestOurSignature:
    def test_every_convention_has_an_adapter_and_ours_is_the_default(self) -> None:
        assert set(CONVENTIONS) == set(ServingConvention)
        assert convention_of("fmc-text").name == ServingConvention.FMC_TEXT

    def test_the_request_carries_only_the_declared_inputs(self) -> None:
        request = _adapter("fmc-text").request(
            Prompt(text="hi"), DECODING, {"prompt": "BYTES", "max_tokens": "INT32"}, stream=False
        )
        assert request == {"prompt": "hi", "max_tokens": 7}

    def test_the_reply_has_text_and_token_counts(self) -> None:
        outputs = {
            "text": _bytes("yes"),
            "prompt_tokens": np.array([3], dtype=np.int32),
            "completion_tokens": np.array([1], dtype=np.int64),
        }
        reply = convention_of("fmc-text").reply(outputs)
        assert (reply.text, reply.prompt_tokens, reply.completion_tokens) == ("yes", 3, 1)

    def test_a_reply_without_token_counts_is_invalid(self) -> None:
        with pytest.raises(ReplyInvalid, match="prompt_tokens"):
            convention_of("fmc-text").reply({"text": _bytes("yes"), "completion_tokens": np.array([1])})

    def test_a_decoupled_model_is_refused(self) -> None:
        metadata = {
            "inputs": [
                {"name": "prompt", "datatype": "BYTES", "shape": [1]},
                {"name": "max_tokens", "datatype": "INT32", "shape": [1]},
            ],
            "outputs": [
                {"name": "text", "datatype": "BYTES", "shape": [1]},
                {"name": "prompt_tokens", "datatype": "INT32", "shape": [1]},
                {"name": "completion_tokens", "datatype": "INT32", "shape": [1]},
            ],
        }
        config = {"config": {"model_transaction_policy": {"decoupled": True}}}
        signature = signature_from_triton(metadata, config)
        assert signature.decoupled
        [problem] = _adapter("fmc-text").check(signature, None).violations
        assert problem.startswith("the model is decoupled")


class TestVllm:
    def test_the_backend_signature_fits_and_every_optional_input_is_sent(self) -> None:
        check = _adapter("triton-vllm").check(VLLM, DECODING)
        assert check.ok
        assert dict(check.datatypes) == {
            "text_input": "BYTES",
            "stream": "BOOL",
            "sampling_parameters": "BYTES",
            "exclude_input_in_output": "BOOL",
        }

    def test_the_sampling_parameters_are_a_json_string_and_the_prompt_is_excluded(self) -> None:
        adapter = _adapter("triton-vllm")
        request = adapter.request(
            Prompt(text="hello"), DECODING, adapter.check(VLLM, DECODING).datatypes, stream=False
        )
        assert request["text_input"] == "hello"
        assert request["stream"] is False
        assert request["exclude_input_in_output"] is True
        assert json.loads(request["sampling_parameters"]) == {
            "max_tokens": 7,
            "temperature": 0.5,
            "top_p": 0.9,
            "seed": 11,
        }

    def test_grpc_streams_and_http_goes_through_generate(self) -> None:
        adapter = _adapter("triton-vllm")
        assert adapter.transport(grpc=True) == Transport.STREAM
        assert adapter.transport(grpc=False) == Transport.GENERATE

    def test_the_reply_has_text_and_no_token_counts(self) -> None:
        reply = convention_of("triton-vllm").reply({"text_output": _bytes("Paris")})
        assert (reply.text, reply.prompt_tokens, reply.completion_tokens) == ("Paris", None, None)

    def test_token_counts_are_asked_for_and_read_only_when_the_backend_offers_them(self) -> None:
        adapter = _adapter("triton-vllm")
        assert adapter.outputs_for(adapter.check(VLLM, None).datatypes) == ("text_output",)
        counting = ModelSignature(
            inputs=(
                *VLLM.inputs,
                TensorSpec("return_num_input_tokens", "BOOL", (1,), optional=True),
                TensorSpec("return_num_output_tokens", "BOOL", (1,), optional=True),
            ),
            outputs=(*VLLM.outputs, TensorSpec("num_output_tokens", "UINT32", (1,))),
            decoupled=True,
        )
        datatypes = adapter.check(counting, None).datatypes
        # num_input_tokens is not declared: its flag is not sent, its count stays unknown.
        assert "return_num_input_tokens" not in datatypes
        assert (
            adapter.request(Prompt(text="hi"), DECODING, datatypes, stream=False)["return_num_output_tokens"]
            is True
        )
        assert adapter.outputs_for(datatypes) == ("text_output", "num_output_tokens")
        reply = adapter.reply({"text_output": _bytes("Paris"), "num_output_tokens": np.array([2], np.uint32)})
        assert (reply.prompt_tokens, reply.completion_tokens) == (None, 2)

    def test_without_sampling_parameters_the_model_is_refused(self) -> None:
        signature = ModelSignature(inputs=VLLM.inputs[:1], outputs=VLLM.outputs, decoupled=True)
        [problem] = _adapter("triton-vllm").check(signature, DECODING).violations
        assert problem.startswith("missing input 'sampling_parameters' (BYTES, one element, optional)")

    def test_a_wrong_output_type_is_named(self) -> None:
        signature = ModelSignature(inputs=VLLM.inputs, outputs=(TensorSpec("text_output", "FP32", (-1,)),))
        assert _adapter("triton-vllm").check(signature, None).violations == (
            "output 'text_output' must be BYTES; the model declares FP32",
        )


class TestTensorRtLlmEnsemble:
    def test_the_ensemble_signature_fits_with_batching_shapes(self) -> None:
        check = _adapter("tensorrt-llm-ensemble").check(ENSEMBLE, DECODING)
        assert check.ok, check.violations
        assert set(check.datatypes) == {"text_input", "max_tokens", "temperature", "top_p", "random_seed"}

    def test_the_request_maps_the_decoding_parameters_to_the_ensemble_inputs(self) -> None:
        adapter = _adapter("tensorrt-llm-ensemble")
        request = adapter.request(
            Prompt(text="hi"), DECODING, adapter.check(ENSEMBLE, DECODING).datatypes, stream=False
        )
        assert request == {
            "text_input": "hi",
            "max_tokens": 7,
            "temperature": 0.5,
            "top_p": 0.9,
            "random_seed": 11,
        }

    def test_sampling_without_a_temperature_input_is_refused(self) -> None:
        signature = ModelSignature(inputs=ENSEMBLE.inputs[:2], outputs=ENSEMBLE.outputs, max_batch_size=64)
        violations = _adapter("tensorrt-llm-ensemble").check(signature, DECODING).violations
        assert violations[0].startswith("the stage decodes with temperature 0.5")

    def test_a_missing_max_tokens_is_named(self) -> None:
        signature = ModelSignature(inputs=(ENSEMBLE.inputs[0],), outputs=ENSEMBLE.outputs, max_batch_size=64)
        assert _adapter("tensorrt-llm-ensemble").check(signature, None).violations == (
            "missing input 'max_tokens' (INT32, one element)",
        )


class TestGenerate:
    def test_the_body_is_text_input_and_parameters(self) -> None:
        adapter = _adapter("triton-generate")
        body = adapter.request(Prompt(text="hi"), DECODING, adapter.check(VLLM, None).datatypes, stream=False)
        assert body == {
            "text_input": "hi",
            "parameters": {
                "max_tokens": 7,
                "temperature": 0.5,
                "top_p": 0.9,
                "seed": 11,
                "stream": False,
                "exclude_input_in_output": True,
            },
        }

    def test_the_answer_is_the_json_text_output(self) -> None:
        adapter = _adapter("triton-generate")
        assert adapter.reply({"model_name": "m", "text_output": "ok"}).text == "ok"
        with pytest.raises(ReplyInvalid):
            adapter.reply({"model_name": "m"})

    def test_it_is_http_only(self) -> None:
        adapter = _adapter("triton-generate")
        assert adapter.check_protocol(grpc=False) == []
        assert adapter.check_protocol(grpc=True)[0].startswith("Triton's generate extension is HTTP only")


class TestVllmStreaming:
    def test_the_stream_input_asks_for_a_stream_only_when_the_transport_streams(self) -> None:
        adapter = _adapter("triton-vllm")
        datatypes = adapter.check(VLLM, None).datatypes
        assert adapter.request(Prompt(text="hi"), DECODING, datatypes, stream=True)["stream"] is True
        assert adapter.request(Prompt(text="hi"), DECODING, datatypes, stream=False)["stream"] is False

    def test_pieces_join_with_the_prompt_count_repeated_and_the_new_tokens_summed(self) -> None:
        pieces = [Reply("Par", 5, 1), Reply("is", 5, 1), Reply("!", 5, 2)]
        assert _adapter("triton-vllm").join(pieces) == Reply("Paris!", 5, 4)
        assert _adapter("triton-vllm").join([Reply("a"), Reply("b")]) == Reply("ab", None, None)

    def test_a_stream_without_a_response_is_invalid(self) -> None:
        with pytest.raises(ReplyInvalid, match="without a response"):
            _adapter("triton-vllm").join([])

    def test_a_unary_convention_wants_exactly_one_response(self) -> None:
        with pytest.raises(ReplyInvalid, match="expected one response, the model sent 2"):
            _adapter("fmc-text").join([Reply("a", 1, 1), Reply("b", 1, 1)])

    def test_raw_text_conventions_refuse_unrendered_messages(self) -> None:
        messages = Prompt(messages=(ChatMessage("user", "hi"),))
        with pytest.raises(ValueError, match="chat template"):
            _adapter("triton-vllm").request(messages, DECODING, {"text_input": "BYTES"}, stream=True)


class TestOpenAiChat:
    def test_a_text_prompt_is_one_user_message_with_the_decoding_parameters_and_a_stream_with_usage(
        self,
    ) -> None:
        body = convention_of("openai-chat").request(Prompt(text="hi"), DECODING, {}, stream=False)
        assert body == {
            "messages": [{"role": "user", "content": "hi"}],
            "max_tokens": 7,
            "temperature": 0.5,
            "top_p": 0.9,
            "seed": 11,
            "stream": True,
            "stream_options": {"include_usage": True},
        }

    def test_chat_messages_are_sent_as_they_are(self) -> None:
        prompt = Prompt(
            messages=(
                ChatMessage("system", "Be brief."),
                ChatMessage("user", "a"),
                ChatMessage("assistant", "b"),
            )
        )
        body = convention_of("openai-chat").request(prompt, DECODING, {}, stream=True)
        assert body["messages"] == [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "b"},
        ]

    def test_chunks_give_their_delta_and_the_usage_chunk_its_counts(self) -> None:
        adapter = convention_of("openai-chat")
        chunks: list[dict[str, Any]] = [
            {"choices": [{"index": 0, "delta": {"role": "assistant"}}]},
            {"choices": [{"index": 0, "delta": {"content": "Par"}}]},
            {"choices": [{"index": 0, "delta": {"content": "is"}, "finish_reason": None}], "usage": None},
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
            {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}},
        ]
        assert adapter.join([adapter.reply(chunk) for chunk in chunks]) == Reply("Paris", 9, 2)

    def test_without_usage_the_counts_stay_unknown(self) -> None:
        adapter = convention_of("openai-chat")
        reply = adapter.join([adapter.reply({"choices": [{"delta": {"content": "x"}}]})])
        assert (reply.prompt_tokens, reply.completion_tokens) == (None, None)

    @pytest.mark.parametrize(
        ("chunk", "words"),
        [
            ({"choices": "no"}, "'choices' is not a list"),
            ({"choices": [{"delta": {"content": 3}}]}, "'delta.content' is not a string"),
            (
                {"choices": [], "usage": {"completion_tokens": -1}},
                "usage.completion_tokens is not a token count",
            ),
            ({"choices": [], "usage": {"prompt_tokens": True}}, "usage.prompt_tokens is not a token count"),
            ({"error": {"message": "out of memory"}}, "reported an error in the stream: out of memory"),
        ],
    )
    def test_a_malformed_chunk_is_an_invalid_answer(self, chunk: dict[str, Any], words: str) -> None:
        with pytest.raises(ReplyInvalid, match=words):
            convention_of("openai-chat").reply(chunk)

    def test_an_event_that_is_not_a_json_object_is_invalid(self) -> None:
        with pytest.raises(ReplyInvalid, match="not JSON"):
            chunk_of("{oops")
        with pytest.raises(ReplyInvalid, match="not a JSON object"):
            chunk_of("[1]")

    def test_it_is_http_only(self) -> None:
        adapter = convention_of("openai-chat")
        assert adapter.transport(grpc=False) == Transport.CHAT
        assert adapter.check_protocol(grpc=False) == []
        assert adapter.check_protocol(grpc=True)[0].startswith("an OpenAI-compatible server speaks HTTP")
        assert tensors_of("openai-chat") is None


class TestServerSentEvents:
    def test_data_lines_comments_and_other_fields_are_read_as_the_standard_says(self) -> None:
        reader = EventReader()
        lines = [
            ": keep-alive",
            "event: message",
            'data: {"a":',
            "data:1}",
            "id: 7",
            "",
            "",
            "retry: 100\r",
            "data: [DONE]\r",
            "\r",
        ]
        events = [data for line in lines if (data := reader.line(line)) is not None]
        assert events == ['{"a":\n1}', "[DONE]"]

    def test_an_event_cut_by_the_end_of_the_stream_is_still_read(self) -> None:
        reader = EventReader()
        assert reader.line('data: {"x": 1}') is None
        assert reader.end() == '{"x": 1}'
        assert reader.end() is None


class TestServedModels:
    def test_the_model_list_and_the_stack_in_the_server_s_words(self) -> None:
        models = served_models({"object": "list", "data": [{"id": "a", "owned_by": "vllm"}, {"id": "b"}]})
        assert [(m.id, m.owned_by) for m in models] == [("a", "vllm"), ("b", "")]
        assert serving_stack(models[0], "uvicorn") == "openai-compatible (uvicorn), model owned_by vllm"
        assert serving_stack(models[1], None) == "openai-compatible"

    def test_an_answer_that_is_no_model_list_is_refused(self) -> None:
        with pytest.raises(ValueError, match="did not answer a model list"):
            served_models({"models": []})


class TestHttpRefusals:
    @pytest.mark.parametrize(
        ("status", "raw", "kind", "message"),
        [
            (503, b"", "endpoint-down", "HTTP 503"),
            (429, b'{"error": {"message": "slow down"}}', "transient", "slow down"),
            (502, b"bad gateway", "transient", "bad gateway"),
            (504, b"", "transient", "HTTP 504"),
            (
                400,
                b'{"error": {"message": "prompt too long", "type": "invalid"}}',
                "model-error",
                "prompt too long",
            ),
            (404, b'{"detail": "Not Found"}', "model-error", "Not Found"),
            (
                422,
                b'{"detail": [{"loc": ["body", "messages"]}]}',
                "model-error",
                '[{"loc": ["body", "messages"]}]',
            ),
        ],
    )
    def test_a_refusal_is_classified_like_triton_s_in_the_server_s_words(
        self, status: int, raw: bytes, kind: str, message: str
    ) -> None:
        failure = http_refusal(status, raw)
        assert (failure.kind, failure.message) == (kind, message)
