"""What the model is asked for one item: a text prompt, or chat messages (pure).

An item of a suite carries either ``prompt`` (one text) or ``messages`` (a conversation: system,
user and assistant turns, ending with a user turn). OpenAI-compatible servers take the messages and
apply the model's own chat template; raw-text conventions get them rendered by the chat template
the submission names (``fmc_gateway.serving.templates``), identically for every item.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Role = Literal["system", "user", "assistant"]

TextSink = Callable[[str], None]
"""Called with each piece of an answer's text as it arrives (once with the whole text when the
convention does not stream)."""


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True)
class Prompt:
    """One item's input: ``text`` for a plain prompt, ``messages`` for a conversation (never both)."""

    text: str | None = None
    messages: tuple[ChatMessage, ...] | None = None

    def __post_init__(self) -> None:
        if (self.text is None) == (self.messages is None):
            raise ValueError("a prompt is either a text or chat messages")

    @classmethod
    def of(cls, value: str | Prompt) -> Prompt:
        return value if isinstance(value, Prompt) else cls(text=value)
