"""What every serving convention offers the gateway, and the answer it reads (pure).

A ``Convention`` builds the request for one item and reads the answer; its ``Transport`` says how
the request travels. A Triton convention (``TensorConvention``) also checks the model's tensor
signature; an OpenAI-compatible server has none (its readiness check reads ``GET /v1/models``).

A streamed answer arrives in pieces (a decoupled model's responses, server-sent events): ``reply``
reads one piece and ``join`` makes the answer of them all, so the gateway can hand each piece on as
it arrives and still store one answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from fmc_common.events.inference import DecodingParameters, ServingConvention
from fmc_gateway.serving.prompts import Prompt
from fmc_gateway.serving.signature import ContractCheck, ModelSignature


class Transport(StrEnum):
    INFER = "infer"
    """One unary inference request (gRPC or HTTP), one response."""
    STREAM = "stream"
    """A gRPC stream (a decoupled model): the responses' texts, joined, until the final one."""
    GENERATE = "generate"
    """HTTP ``POST /v2/models/{model}/generate`` with a JSON body; ``text_output`` in the JSON answer."""
    CHAT = "chat-completions"
    """HTTP ``POST /v1/chat/completions`` (OpenAI-compatible), streamed as server-sent events."""


STREAMED = frozenset({Transport.STREAM, Transport.CHAT})
"""Transports whose answer arrives in pieces: time to first token is measured on them."""


class ReplyInvalid(ValueError):
    """The answer lacks what the convention promises (stored as the item's error)."""


@dataclass(frozen=True)
class Reply:
    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    """``None`` when the convention does not return token counts: recorded as unknown, never invented."""


class Convention(Protocol):
    """What the gateway needs to know about one way of serving a model."""

    name: ServingConvention

    def transport(self, grpc: bool) -> Transport: ...

    def check_protocol(self, grpc: bool) -> list[str]:
        """Why the endpoint's protocol cannot carry this convention (empty when it can)."""
        ...

    def request(
        self, prompt: Prompt, decoding: DecodingParameters, datatypes: Mapping[str, str], stream: bool
    ) -> dict[str, Any]:
        """The request for one item: input name -> value (tensor transports) or the JSON body.

        ``stream`` asks a model that can stream (a declared ``stream`` input, an SSE body) to do so.
        """
        ...

    def reply(self, outputs: Mapping[str, Any]) -> Reply:
        """The answer (or one piece of a streamed one), from the outputs (name -> numpy array or
        ``None``) or the JSON answer (chunk)."""
        ...

    def join(self, pieces: Sequence[Reply]) -> Reply:
        """One answer from the pieces read, in order (a unary answer is its one piece)."""
        ...


class TensorConvention(Convention, Protocol):
    """A convention served by Triton: a tensor signature the readiness check holds the model to."""

    prompt_input: str
    """The input (or JSON field) that carries the item's text."""
    outputs: tuple[str, ...]
    """The outputs asked for."""

    @property
    def required_outputs(self) -> Mapping[str, frozenset[str]]:
        """The outputs the model must declare, each with the datatypes it may have."""
        ...

    def outputs_for(self, datatypes: Mapping[str, str]) -> tuple[str, ...]:
        """The outputs asked for, given the inputs the readiness check found (``datatypes``)."""
        ...

    def check(self, signature: ModelSignature, decoding: DecodingParameters | None) -> ContractCheck:
        """Every way ``signature`` breaks the convention's rules, phrased for the team."""
        ...


def text_of(prompt: Prompt) -> str:
    """The text a raw-text convention sends; chat messages must have been rendered before (templates)."""
    if prompt.text is None:
        raise ValueError(
            "a raw-text convention takes a text prompt: render the chat messages with the "
            "submission's chat template first"
        )
    return prompt.text


def join_texts(pieces: Sequence[Reply]) -> str:
    return "".join(piece.text for piece in pieces)


def last_count(counts: Sequence[int | None]) -> int | None:
    """The last count a stream sent (a running total, or one repeated on every piece)."""
    return next((count for count in reversed(counts) if count is not None), None)


def summed_count(counts: Sequence[int | None]) -> int | None:
    """The sum of per-piece counts (each piece counts its own tokens); ``None`` when none was sent."""
    known = [count for count in counts if count is not None]
    return sum(known) if known else None
