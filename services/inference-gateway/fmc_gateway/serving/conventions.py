"""One adapter per serving convention: check the signature, build the request, read the answer (pure).

The transport (``Transport``) is the convention's too: one unary ``infer`` call (our signature,
TensorRT-LLM's ensemble), a gRPC stream for a decoupled model (Triton's vLLM backend, streamed
piece by piece; over HTTP it goes through the generate extension, which Triton maps onto the same
input tensors), an HTTP ``POST /v2/models/{model}/generate`` (Triton's generate extension), or an
OpenAI-compatible ``POST /v1/chat/completions`` (``fmc_gateway.serving.openai_chat``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from fmc_common.events.inference import DecodingParameters, ServingConvention
from fmc_gateway.serving.openai_chat import OpenAiChat
from fmc_gateway.serving.prompts import Prompt
from fmc_gateway.serving.protocol import (
    Convention,
    Reply,
    ReplyInvalid,
    TensorConvention,
    Transport,
    join_texts,
    last_count,
    summed_count,
    text_of,
)
from fmc_gateway.serving.signature import ContractCheck, ModelSignature, check_tensors, first_text

__all__ = [
    "CONVENTIONS",
    "Convention",
    "Reply",
    "ReplyInvalid",
    "TensorConvention",
    "Transport",
    "convention_of",
    "sampling_json",
    "tensors_of",
]

BYTES = frozenset({"BYTES"})
BOOL = frozenset({"BOOL"})
INT32 = frozenset({"INT32"})
FP32 = frozenset({"FP32"})
COUNTS = frozenset({"INT32", "INT64"})


def _sampling_required(signature: ModelSignature, decoding: DecodingParameters | None) -> list[str]:
    """Our rule for tensor signatures: a stage that samples needs the model to take its parameters."""
    problems = []
    if decoding is not None:
        if decoding.temperature != 0.0 and signature.input("temperature") is None:
            problems.append(
                f"the stage decodes with temperature {decoding.temperature}, but the model has no "
                "'temperature' input (FP32, one element)"
            )
        if decoding.top_p != 1.0 and signature.input("top_p") is None:
            problems.append(
                f"the stage decodes with top_p {decoding.top_p}, but the model has no 'top_p' input "
                "(FP32, one element)"
            )
    return problems


def _one(value: Any, name: str) -> Any:
    if value is None or getattr(value, "size", 1) != 1:
        raise ReplyInvalid(f"the response lacks one element of ['{name}']")
    return value.reshape(-1)[0] if hasattr(value, "reshape") else value


def _text(outputs: Mapping[str, Any], name: str) -> str:
    text = first_text(outputs.get(name))
    if text is None:
        raise ReplyInvalid(f"the response lacks output '{name}'")
    return text


class _Tensors:
    """The tensor rules of a convention: required inputs and outputs, optional inputs it knows.

    ``request`` sends the prompt and, of the values ``_values`` offers, those the model declares.
    A unary answer is one piece; a streaming convention overrides ``join``.
    """

    name: ServingConvention
    prompt_input: str
    outputs: tuple[str, ...]
    required_inputs: Mapping[str, frozenset[str]]
    known_inputs: Mapping[str, frozenset[str]]
    required_outputs: Mapping[str, frozenset[str]]

    def check_protocol(self, grpc: bool) -> list[str]:
        return []

    def outputs_for(self, datatypes: Mapping[str, str]) -> tuple[str, ...]:
        return self.outputs

    def _tensors(self, signature: ModelSignature) -> tuple[list[str], dict[str, str]]:
        return check_tensors(signature, self.required_inputs, self.required_outputs, self.known_inputs)

    def _values(self, decoding: DecodingParameters, stream: bool) -> dict[str, Any]:
        """The value of every non-prompt input the convention knows, for this run's parameters."""
        raise NotImplementedError

    def request(
        self, prompt: Prompt, decoding: DecodingParameters, datatypes: Mapping[str, str], stream: bool
    ) -> dict[str, Any]:
        values = {self.prompt_input: text_of(prompt), **self._values(decoding, stream)}
        return {name: values[name] for name in datatypes if name in values}

    def join(self, pieces: Sequence[Reply]) -> Reply:
        if len(pieces) != 1:
            raise ReplyInvalid(f"expected one response, the model sent {len(pieces)}")
        return pieces[0]


class _Unary(_Tensors):
    """A non-decoupled signature answered by one ``infer`` call; the decoding parameters as inputs.

    ``decoding_inputs`` maps an input name to the ``DecodingParameters`` field it carries.
    """

    decoding_inputs: Mapping[str, str]

    def transport(self, grpc: bool) -> Transport:
        return Transport.INFER

    def check(self, signature: ModelSignature, decoding: DecodingParameters | None) -> ContractCheck:
        problems, sent = self._tensors(signature)
        problems += _sampling_required(signature, decoding)
        if signature.decoupled:
            problems.append(_decoupled_refused())
        return ContractCheck(violations=tuple(problems), datatypes=sent)

    def _values(self, decoding: DecodingParameters, stream: bool) -> dict[str, Any]:
        values = {name: getattr(decoding, field) for name, field in self.decoding_inputs.items()}
        return values | {"stream": False}  # one request, one response


class FmcText(_Unary):
    """Our own signature: ``prompt`` (+ ``max_tokens``, ...) -> ``text`` and token counts."""

    name = ServingConvention.FMC_TEXT
    prompt_input = "prompt"
    outputs: tuple[str, ...] = ("text", "prompt_tokens", "completion_tokens")
    required_inputs = {"prompt": BYTES, "max_tokens": INT32}
    known_inputs = {
        "temperature": FP32,
        "top_p": FP32,
        "seed": frozenset({"INT32", "INT64"}),
    }
    required_outputs = {
        "text": BYTES,
        "prompt_tokens": COUNTS,
        "completion_tokens": COUNTS,
    }
    decoding_inputs = {
        "max_tokens": "max_tokens",
        "temperature": "temperature",
        "top_p": "top_p",
        "seed": "seed",
    }

    def reply(self, outputs: Mapping[str, Any]) -> Reply:
        missing = [
            name for name in self.outputs if (v := outputs.get(name)) is None or getattr(v, "size", 1) != 1
        ]
        if missing:
            raise ReplyInvalid(f"the response lacks one element of {missing}")
        for name in ("prompt_tokens", "completion_tokens"):
            kind = getattr(getattr(outputs[name], "dtype", None), "kind", "i")
            if kind not in "iu":
                raise ReplyInvalid(
                    f"output {name} holds {outputs[name].dtype} values; the contract wants INT32 or INT64"
                )
        raw = _one(outputs["text"], "text")
        if not isinstance(raw, bytes | str):
            raise ReplyInvalid(f"output text holds {outputs['text'].dtype} values; the contract wants BYTES")
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
        return Reply(
            text=text,
            prompt_tokens=int(_one(outputs["prompt_tokens"], "prompt_tokens")),
            completion_tokens=int(_one(outputs["completion_tokens"], "completion_tokens")),
        )


def _decoupled_refused() -> str:
    return (
        "the model is decoupled (model_transaction_policy { decoupled: true }): this convention sends "
        "one request and reads one response; serve it non-decoupled or choose a streaming convention"
    )


class TritonVllm(_Tensors):
    """Triton's vLLM backend: ``text_input`` (+ ``sampling_parameters`` JSON, ...) -> ``text_output``.

    The backend's model is decoupled: over gRPC the gateway streams (``stream`` true when the model
    declares it: one response per new piece of text, the last flagged final, joined here); over
    HTTP it posts to the generate extension with the same inputs (``stream`` false, one response).
    Token counts only when the backend offers them (``return_num_input_tokens`` /
    ``return_num_output_tokens`` inputs with their ``num_input_tokens`` / ``num_output_tokens``
    outputs, vLLM backend r24.12 and later): asked for, and recorded; otherwise none. Streamed,
    every response repeats the prompt's count and counts its own new tokens.
    """

    counts: Mapping[str, str] = {
        "return_num_input_tokens": "num_input_tokens",
        "return_num_output_tokens": "num_output_tokens",
    }

    name = ServingConvention.TRITON_VLLM
    prompt_input = "text_input"
    outputs: tuple[str, ...] = ("text_output",)
    required_inputs = {"text_input": BYTES}
    known_inputs = {
        "stream": BOOL,
        "sampling_parameters": BYTES,
        "exclude_input_in_output": BOOL,
        "return_num_input_tokens": BOOL,
        "return_num_output_tokens": BOOL,
    }
    required_outputs = {"text_output": BYTES}

    def transport(self, grpc: bool) -> Transport:
        return Transport.STREAM if grpc else Transport.GENERATE

    def outputs_for(self, datatypes: Mapping[str, str]) -> tuple[str, ...]:
        return self.outputs + tuple(output for flag, output in self.counts.items() if flag in datatypes)

    def check(self, signature: ModelSignature, decoding: DecodingParameters | None) -> ContractCheck:
        problems, sent = self._tensors(signature)
        if signature.input("sampling_parameters") is None:
            problems.append(
                "missing input 'sampling_parameters' (BYTES, one element, optional): the gateway sends "
                "the stage's max_tokens, temperature, top_p and seed in it, as vLLM's backend declares"
            )
        for flag, output in self.counts.items():
            # A count is asked for only if the model also declares the integer output carrying it.
            spec = signature.output(output)
            if spec is None or not spec.datatype.startswith(("INT", "UINT")):
                sent.pop(flag, None)
        return ContractCheck(violations=tuple(problems), datatypes=sent)

    def _values(self, decoding: DecodingParameters, stream: bool) -> dict[str, Any]:
        return {
            "stream": stream,
            "sampling_parameters": sampling_json(decoding),
            "exclude_input_in_output": True,
            "return_num_input_tokens": True,
            "return_num_output_tokens": True,
        }

    def reply(self, outputs: Mapping[str, Any]) -> Reply:
        return Reply(
            text=_text(outputs, "text_output"),
            prompt_tokens=_count(outputs.get("num_input_tokens")),
            completion_tokens=_count(outputs.get("num_output_tokens")),
        )

    def join(self, pieces: Sequence[Reply]) -> Reply:
        if not pieces:
            raise ReplyInvalid("the stream ended without a response")
        return Reply(
            text=join_texts(pieces),
            prompt_tokens=last_count([piece.prompt_tokens for piece in pieces]),
            completion_tokens=summed_count([piece.completion_tokens for piece in pieces]),
        )


def _count(value: Any) -> int | None:
    """A token count output (an array, or a JSON number or list; elements summed), None if absent."""
    if value is None:
        return None
    items = (
        list(value.reshape(-1))
        if hasattr(value, "reshape")
        else value
        if isinstance(value, list)
        else [value]
    )
    try:
        return sum(int(item) for item in items) if items else None
    except (TypeError, ValueError) as exc:
        raise ReplyInvalid(f"a token count is not an integer: {value!r}") from exc


def sampling_json(decoding: DecodingParameters) -> str:
    """vLLM's ``SamplingParams`` fields, as the backend reads them from ``sampling_parameters``."""
    return json.dumps(
        {
            "max_tokens": decoding.max_tokens,
            "temperature": decoding.temperature,
            "top_p": decoding.top_p,
            "seed": decoding.seed,
        },
        sort_keys=True,
    )


class TensorRtLlmEnsemble(_Unary):
    """TensorRT-LLM's ``ensemble``: ``text_input``, ``max_tokens`` (+ sampling inputs) -> ``text_output``."""

    name = ServingConvention.TENSORRT_LLM_ENSEMBLE
    prompt_input = "text_input"
    outputs: tuple[str, ...] = ("text_output",)
    required_inputs = {"text_input": BYTES, "max_tokens": INT32}
    known_inputs = {
        "temperature": FP32,
        "top_p": FP32,
        "random_seed": frozenset({"UINT64", "INT64"}),
        "stream": BOOL,
    }
    required_outputs = {"text_output": BYTES}
    decoding_inputs = {
        "max_tokens": "max_tokens",
        "temperature": "temperature",
        "top_p": "top_p",
        "random_seed": "seed",
    }

    def reply(self, outputs: Mapping[str, Any]) -> Reply:
        return Reply(text=_text(outputs, "text_output"))


class TritonGenerate(_Tensors):
    """Triton's generate extension: ``{"text_input": ..., "parameters": {...}}`` -> ``{"text_output": ...}``.

    HTTP only. ``parameters`` carries the decoding parameters (``max_tokens``, ``temperature``,
    ``top_p``, ``seed``), plus ``stream`` false and ``exclude_input_in_output`` true when the model
    declares those inputs; Triton hands a parameter named like one of the model's inputs to that
    input (so TensorRT-LLM's ensemble gets its ``max_tokens``), the others as request parameters
    (as vLLM's backend reads them).
    """

    name = ServingConvention.TRITON_GENERATE
    prompt_input = "text_input"
    outputs: tuple[str, ...] = ("text_output",)
    required_inputs = {"text_input": BYTES}
    known_inputs = {
        "max_tokens": INT32,
        "temperature": FP32,
        "top_p": FP32,
        "seed": frozenset({"INT32", "INT64"}),
        "stream": BOOL,
        "exclude_input_in_output": BOOL,
    }
    required_outputs = {"text_output": BYTES}

    def transport(self, grpc: bool) -> Transport:
        return Transport.GENERATE

    def check_protocol(self, grpc: bool) -> list[str]:
        if grpc:
            return [
                "Triton's generate extension is HTTP only: register the endpoint with protocol http "
                "and Triton's HTTP port"
            ]
        return []

    def check(self, signature: ModelSignature, decoding: DecodingParameters | None) -> ContractCheck:
        problems, sent = self._tensors(signature)
        return ContractCheck(violations=tuple(problems), datatypes=sent)

    def request(
        self, prompt: Prompt, decoding: DecodingParameters, datatypes: Mapping[str, str], stream: bool
    ) -> dict[str, Any]:
        parameters: dict[str, Any] = {
            "max_tokens": decoding.max_tokens,
            "temperature": decoding.temperature,
            "top_p": decoding.top_p,
            "seed": decoding.seed,
        }
        if "stream" in datatypes:
            parameters["stream"] = False  # the generate endpoint answers once
        if "exclude_input_in_output" in datatypes:
            parameters["exclude_input_in_output"] = True
        return {"text_input": text_of(prompt), "parameters": parameters}

    def reply(self, outputs: Mapping[str, Any]) -> Reply:
        text = outputs.get("text_output")
        if isinstance(text, list):
            text = "".join(str(part) for part in text)
        if not isinstance(text, str):
            raise ReplyInvalid("the generate answer has no string 'text_output'")
        return Reply(text=text)


TENSOR_CONVENTIONS: Mapping[ServingConvention, TensorConvention] = {
    ServingConvention.FMC_TEXT: FmcText(),
    ServingConvention.TRITON_VLLM: TritonVllm(),
    ServingConvention.TENSORRT_LLM_ENSEMBLE: TensorRtLlmEnsemble(),
    ServingConvention.TRITON_GENERATE: TritonGenerate(),
}

CONVENTIONS: Mapping[ServingConvention, Convention] = {
    **TENSOR_CONVENTIONS,
    ServingConvention.OPENAI_CHAT: OpenAiChat(),
}


def convention_of(name: ServingConvention | str) -> Convention:
    return CONVENTIONS[ServingConvention(name)]


def tensors_of(name: ServingConvention | str) -> TensorConvention | None:
    """The convention's tensor rules, or ``None`` when the server has no Triton signature (openai-chat)."""
    return TENSOR_CONVENTIONS.get(ServingConvention(name))
