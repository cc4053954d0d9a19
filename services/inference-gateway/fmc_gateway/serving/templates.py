"""Chat templates: an item's chat messages rendered into the one prompt a raw-text model reads (pure).

A raw-text serving convention (ours, Triton's vLLM backend, TensorRT-LLM's ensemble, the generate
extension) sends the model one string; a chat model expects its conversation in the exact markup it
was trained on. The submission names that markup (``RunEndpoint.chat_template``), and every item of
the run is rendered through it, identically: a plain prompt is one user message. The catalogue is
plain Python, not Jinja from teams: nothing a team sends is ever evaluated, and the same messages
always give the same text. Each rendering ends with the generation prompt (the opening of the
assistant's turn). docs/triton-contract.md shows every template with an example.

The names live in ``fmc_common.events.inference.CHAT_TEMPLATES`` so the registry and the gateway's
edge refuse an unknown name before any run starts; this module holds the renderings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fmc_common.events.inference import RAW_TEXT_CONVENTIONS, ServingConvention
from fmc_gateway.serving.prompts import ChatMessage, Prompt

Renderer = Callable[[Sequence[ChatMessage]], str]


def _chatml(messages: Sequence[ChatMessage]) -> str:
    """ChatML (Qwen, Yi, many fine-tunes): every turn framed by ``<|im_start|>role`` and ``<|im_end|>``."""
    turns = "".join(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in messages)
    return f"{turns}<|im_start|>assistant\n"


def _llama3(messages: Sequence[ChatMessage]) -> str:
    """Llama 3 (3.0 to 3.3 instruct): header-framed turns ended by ``<|eot_id|>``, contents trimmed."""
    turns = "".join(
        f"<|start_header_id|>{m.role}<|end_header_id|>\n\n{m.content.strip()}<|eot_id|>" for m in messages
    )
    return f"<|begin_of_text|>{turns}<|start_header_id|>assistant<|end_header_id|>\n\n"


def _split_system(messages: Sequence[ChatMessage]) -> tuple[str | None, Sequence[ChatMessage]]:
    if messages and messages[0].role == "system":
        return messages[0].content, messages[1:]
    return None, messages


def _mistral(messages: Sequence[ChatMessage]) -> str:
    """Mistral instruct: ``[INST] user [/INST]assistant</s>``; a system message opens the first user turn."""
    system, turns = _split_system(messages)
    parts = ["<s>"]
    for index, message in enumerate(turns):
        if message.role == "user":
            content = (
                f"{system}\n\n{message.content}" if index == 0 and system is not None else message.content
            )
            parts.append(f"[INST] {content} [/INST]")
        else:
            parts.append(f"{message.content}</s>")
    return "".join(parts)


def _gemma(messages: Sequence[ChatMessage]) -> str:
    """Gemma (2 and 3): ``user`` and ``model`` turns, contents trimmed; a system message opens the
    first user turn (Gemma has no system role)."""
    system, turns = _split_system(messages)
    parts = ["<bos>"]
    for index, message in enumerate(turns):
        role = "model" if message.role == "assistant" else "user"
        content = message.content.strip()
        if index == 0 and system is not None:
            content = f"{system.strip()}\n\n{content}"
        parts.append(f"<start_of_turn>{role}\n{content}<end_of_turn>\n")
    parts.append("<start_of_turn>model\n")
    return "".join(parts)


TEMPLATES: dict[str, Renderer] = {  # the names of fmc_common's CHAT_TEMPLATES (a test keeps them equal)
    "chatml": _chatml,
    "llama-3": _llama3,
    "mistral-instruct": _mistral,
    "gemma": _gemma,
}


def render(template: str, messages: Sequence[ChatMessage]) -> str:
    """The prompt for ``messages`` (validated items: an optional system message first, then user and
    assistant turns alternating, the last one from the user) in the named template's markup."""
    return TEMPLATES[template](messages)


def item_prompt(
    convention: ServingConvention,
    template: str | None,
    text: str | None,
    messages: Sequence[ChatMessage] | None,
) -> Prompt:
    """What the model is sent for one item on this endpoint.

    OpenAI-compatible servers take the messages (or the text) as they are and apply the model's own
    template; a raw-text convention gets the item rendered through the run's template when it names
    one (a plain prompt as one user message, so every item goes through the same markup), or the
    plain prompt when it does not (an item with messages never gets here: preparation fails the run).
    """
    if convention not in RAW_TEXT_CONVENTIONS:
        return Prompt(messages=tuple(messages)) if messages is not None else Prompt(text=text)
    if template is not None:
        turns = tuple(messages) if messages is not None else (ChatMessage("user", text or ""),)
        return Prompt(text=render(template, turns))
    if messages is not None:
        raise ValueError("an item with chat messages needs a chat template on a raw-text convention")
    return Prompt(text=text)
