"""Chat items and chat templates (pure): which items documents are accepted, and the exact prompt each
template makes of a conversation (the golden strings are the model families' own markup)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fmc_common.events.inference import CHAT_TEMPLATES, ServingConvention
from fmc_gateway.runs.items import MAX_TURNS, ItemsInvalid, chat_messages, parse_items
from fmc_gateway.serving.prompts import ChatMessage, Prompt
from fmc_gateway.serving.templates import TEMPLATES, item_prompt, render


def document(*lines: dict[str, Any]) -> bytes:
    return "\n".join(json.dumps(line) for line in lines).encode()


def turn(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


CONVERSATION = (
    ChatMessage("system", "You are terse."),
    ChatMessage("user", "Hi"),
    ChatMessage("assistant", "Hello."),
    ChatMessage("user", "Name a colour."),
)


class TestChatItems:
    def test_prompt_items_and_message_items_may_share_a_document(self) -> None:
        raw = document(
            {"item_id": "plain", "prompt": "Question: 2+2?"},
            {"item_id": "chat", "messages": [turn("system", "Be brief."), turn("user", "Hi")]},
            {
                "item_id": "turns",
                "messages": [turn("user", "Hi"), turn("assistant", "Yes?"), turn("user", "Go")],
            },
        )
        plain, chat, turns = parse_items(raw, 3)
        assert (plain.prompt, plain.messages) == ("Question: 2+2?", None)
        assert chat.prompt is None
        stored = [m.model_dump() for m in chat.messages or ()]
        assert stored == [turn("system", "Be brief."), turn("user", "Hi")]
        assert chat_messages(stored) == (ChatMessage("system", "Be brief."), ChatMessage("user", "Hi"))
        assert [m.role for m in turns.messages or ()] == ["user", "assistant", "user"]

    @pytest.mark.parametrize(
        ("line", "says"),
        [
            (
                {"item_id": "a", "prompt": "x", "messages": [turn("user", "x")]},
                "exactly one of prompt, messages and context",
            ),
            ({"item_id": "a"}, "exactly one of prompt, messages and context"),
            ({"item_id": "a", "messages": []}, "at least 1 item"),
            ({"item_id": "a", "messages": [turn("user", "x"), turn("assistant", "y")]}, "last message"),
            ({"item_id": "a", "messages": [turn("system", "x")]}, "last message"),
            (
                {"item_id": "a", "messages": [turn("user", "x"), turn("system", "y"), turn("user", "z")]},
                "only first",
            ),
            ({"item_id": "a", "messages": [turn("user", "x"), turn("user", "y")]}, "alternating"),
            ({"item_id": "a", "messages": [turn("tool", "x")]}, "messages.0.role"),
            ({"item_id": "a", "messages": [turn("user", "")]}, "messages.0.content"),
            ({"item_id": "a", "messages": [turn("user", "a\x00b")]}, "NUL"),
            ({"item_id": "a", "messages": [turn("user", "a\ud800b")]}, "messages.0.content"),
            ({"item_id": "a", "messages": [turn("user", "x") | {"answer": "B"}]}, "messages.0.answer"),
            ({"item_id": "a", "messages": [turn("user", "x")], "answer": "B"}, "answer"),
            ({"item_id": "a", "messages": [turn("user", "x")] * (MAX_TURNS + 1)}, "at most"),
            (
                {
                    "item_id": "a",
                    "messages": [
                        turn("user", "x" * 150_000),
                        turn("assistant", "y"),
                        turn("user", "z" * 60_000),
                    ],
                },
                "in all",
            ),
        ],
    )
    def test_a_wrong_line_is_refused_with_what_is_wrong(self, line: dict[str, Any], says: str) -> None:
        raw = json.dumps(line, ensure_ascii=True).encode()
        with pytest.raises(ItemsInvalid, match="items line 1") as refused:
            parse_items(raw, 1)
        assert says in str(refused.value)


class TestTemplates:
    def test_the_catalogue_names_in_fmc_common_are_the_renderings(self) -> None:
        assert tuple(TEMPLATES) == CHAT_TEMPLATES

    @pytest.mark.parametrize(
        ("template", "golden"),
        [
            (
                "chatml",
                "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                "<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nName a colour.<|im_end|>\n"
                "<|im_start|>assistant\n",
            ),
            (
                "llama-3",
                "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
                "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>"
                "<|start_header_id|>user<|end_header_id|>\n\nName a colour.<|eot_id|>"
                "<|start_header_id|>assistant<|end_header_id|>\n\n",
            ),
            (
                "mistral-instruct",
                "<s>[INST] You are terse.\n\nHi [/INST]Hello.</s>[INST] Name a colour. [/INST]",
            ),
            (
                "gemma",
                "<bos><start_of_turn>user\nYou are terse.\n\nHi<end_of_turn>\n"
                "<start_of_turn>model\nHello.<end_of_turn>\n"
                "<start_of_turn>user\nName a colour.<end_of_turn>\n<start_of_turn>model\n",
            ),
        ],
    )
    def test_a_conversation_renders_as_the_model_family_defines_it(self, template: str, golden: str) -> None:
        assert render(template, CONVERSATION) == golden

    def test_llama_3_and_gemma_trim_contents_chatml_keeps_them(self) -> None:
        spaced = (ChatMessage("user", "  Hi \n"),)
        assert render("llama-3", spaced).endswith(
            "\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
        )
        assert render("gemma", spaced) == "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n"
        assert render("chatml", spaced) == "<|im_start|>user\n  Hi \n<|im_end|>\n<|im_start|>assistant\n"


class TestItemPrompt:
    def test_a_plain_prompt_goes_through_the_named_template_as_one_user_message(self) -> None:
        prompt = item_prompt(ServingConvention.FMC_TEXT, "chatml", "What is 2+2?", None)
        assert prompt == Prompt(text="<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n")

    def test_messages_on_a_raw_text_convention_are_rendered(self) -> None:
        prompt = item_prompt(ServingConvention.TRITON_VLLM, "mistral-instruct", None, CONVERSATION)
        assert prompt.text == render("mistral-instruct", CONVERSATION)
        assert prompt.messages is None

    def test_without_a_template_a_raw_text_convention_sends_the_prompt_as_it_is(self) -> None:
        assert item_prompt(ServingConvention.FMC_TEXT, None, "plain", None) == Prompt(text="plain")
        with pytest.raises(ValueError, match="chat template"):
            item_prompt(ServingConvention.FMC_TEXT, None, None, CONVERSATION)

    def test_an_openai_compatible_server_gets_the_messages_or_the_text_unrendered(self) -> None:
        chat = item_prompt(ServingConvention.OPENAI_CHAT, None, None, CONVERSATION)
        assert chat == Prompt(messages=CONVERSATION)
        assert item_prompt(ServingConvention.OPENAI_CHAT, None, "plain", None) == Prompt(text="plain")
