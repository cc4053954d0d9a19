"""The ``openai-chat`` convention: an OpenAI-compatible ``POST /v1/chat/completions``, streamed (pure).

The request carries the item's messages (a text prompt becomes one user message), so the server
applies the model's own chat template, and the run's decoding parameters (``max_tokens``,
``temperature``, ``top_p``, ``seed``). It always asks for a stream (``stream: true``) with the usage
in a last chunk (``stream_options: {"include_usage": true}``): the answer arrives as server-sent
events (``data: {chunk}`` lines, ``: comments`` as keep-alives, ``data: [DONE]`` at the end), each
chunk's ``choices[0].delta.content`` a piece of the text. Token counts come from ``usage`` when the
server sends it; otherwise they stay unknown, never invented.

The model ``"model"`` field is the endpoint's model name; the transport adds it (``ModelClient``).
No ``Authorization`` header is ever sent: the gateway holds no credential for a team's server.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fmc_common.events.inference import DecodingParameters, ServingConvention
from fmc_gateway.serving.prompts import Prompt
from fmc_gateway.serving.protocol import Reply, ReplyInvalid, Transport, join_texts, last_count

CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"
DONE = "[DONE]"


class OpenAiChat:
    """An OpenAI-compatible server (Triton's OpenAI frontend, vLLM, SGLang, llama.cpp)."""

    name = ServingConvention.OPENAI_CHAT

    def transport(self, grpc: bool) -> Transport:
        return Transport.CHAT

    def check_protocol(self, grpc: bool) -> list[str]:
        if grpc:
            return [
                "an OpenAI-compatible server speaks HTTP (POST /v1/chat/completions), not gRPC: "
                "register the endpoint with protocol http and the server's HTTP address "
                "(https://host:port when it serves TLS)"
            ]
        return []

    def request(
        self, prompt: Prompt, decoding: DecodingParameters, datatypes: Mapping[str, str], stream: bool
    ) -> dict[str, Any]:
        """The JSON body (without ``model``); always streamed, whatever ``stream`` says."""
        messages = (
            [{"role": "user", "content": prompt.text}]
            if prompt.messages is None
            else [{"role": message.role, "content": message.content} for message in prompt.messages]
        )
        return {
            "messages": messages,
            "max_tokens": decoding.max_tokens,
            "temperature": decoding.temperature,
            "top_p": decoding.top_p,
            "seed": decoding.seed,
            "stream": True,
            "stream_options": {"include_usage": True},
        }

    def reply(self, outputs: Mapping[str, Any]) -> Reply:
        """One chunk (``chat.completion.chunk``): its piece of text and the usage it carries."""
        if "error" in outputs:
            raise ReplyInvalid(f"the server reported an error in the stream: {_error_text(outputs)}")
        choices = outputs.get("choices") or []
        if not isinstance(choices, list):
            raise ReplyInvalid(f"a chunk's 'choices' is not a list: {choices!r:.200}")
        text = _delta_text(choices[0]) if choices else ""
        usage = outputs.get("usage")
        if usage is None:
            return Reply(text=text)
        if not isinstance(usage, dict):
            raise ReplyInvalid(f"a chunk's 'usage' is not an object: {usage!r:.200}")
        return Reply(
            text=text,
            prompt_tokens=_token_count(usage, "prompt_tokens"),
            completion_tokens=_token_count(usage, "completion_tokens"),
        )

    def join(self, pieces: Sequence[Reply]) -> Reply:
        """The text joined; the counts of the last usage sent (usage is a running total)."""
        if not pieces:
            raise ReplyInvalid("the stream ended without a chunk")
        return Reply(
            text=join_texts(pieces),
            prompt_tokens=last_count([piece.prompt_tokens for piece in pieces]),
            completion_tokens=last_count([piece.completion_tokens for piece in pieces]),
        )


def _delta_text(choice: Any) -> str:
    if not isinstance(choice, dict):
        raise ReplyInvalid(f"a chunk's choice is not an object: {choice!r:.200}")
    delta = choice.get("delta") or {}
    if not isinstance(delta, dict):
        raise ReplyInvalid(f"a chunk's 'delta' is not an object: {delta!r:.200}")
    content = delta.get("content")
    if content is None:
        return ""  # a role-only first chunk, or the finish_reason chunk
    if not isinstance(content, str):
        raise ReplyInvalid(f"a chunk's 'delta.content' is not a string: {content!r:.200}")
    return content


def _token_count(usage: Mapping[str, Any], name: str) -> int | None:
    value = usage.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ReplyInvalid(f"usage.{name} is not a token count: {value!r:.100}")
    return value


def _error_text(body: Mapping[str, Any]) -> str:
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error)


def error_message(body: Any, fallback: str) -> str:
    """The server's own words for a refused request (OpenAI's ``error.message``, FastAPI's ``detail``)."""
    if isinstance(body, dict):
        if body.get("error"):
            return _error_text(body)
        if body.get("detail"):
            return json.dumps(body["detail"]) if not isinstance(body["detail"], str) else body["detail"]
        if body.get("message"):
            return str(body["message"])
    return fallback


def chunk_of(data: str) -> dict[str, Any]:
    """One event's data as a chunk (a JSON object), or ``ReplyInvalid``."""
    try:
        chunk = json.loads(data)
    except ValueError as exc:
        raise ReplyInvalid(f"an event of the stream is not JSON: {data[:200]!r}") from exc
    if not isinstance(chunk, dict):
        raise ReplyInvalid(f"an event of the stream is not a JSON object: {data[:200]!r}")
    return chunk


@dataclass
class EventReader:
    """Server-sent events read line by line (the WHATWG rules the OpenAI stream follows).

    ``data:`` lines (one optional space after the colon) accumulate; a blank line ends the event;
    lines starting with ``:`` are comments (keep-alives); other fields (``event``, ``id``,
    ``retry``) carry nothing the gateway needs.
    """

    _data: list[str] = field(default_factory=list)

    def line(self, line: str) -> str | None:
        """The data of the event this line completes, if it completes one."""
        line = line.rstrip("\r\n")
        if not line:
            return self.end()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if name == "data":
            self._data.append(value.removeprefix(" "))
        return None

    def end(self) -> str | None:
        """The pending event's data at the end of the stream (or of an event), if any."""
        if not self._data:
            return None
        data, self._data = "\n".join(self._data), []
        return data


@dataclass(frozen=True)
class ServedModel:
    id: str
    owned_by: str


def served_models(body: Any) -> list[ServedModel]:
    """The models ``GET /v1/models`` lists (``{"data": [{"id": ..., "owned_by": ...}]}``)."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise ValueError(f"GET {MODELS_PATH} did not answer a model list: {str(body)[:200]}")
    return [
        ServedModel(id=str(entry.get("id", "")), owned_by=str(entry.get("owned_by", "") or ""))
        for entry in data
        if isinstance(entry, dict)
    ]


def serving_stack(model: ServedModel, server_header: str | None) -> str:
    """What serves the model, in the server's words: ``openai-compatible (uvicorn), model owned_by x``."""
    stack = "openai-compatible" + (f" ({server_header})" if server_header else "")
    return stack + (f", model owned_by {model.owned_by}" if model.owned_by else "")
