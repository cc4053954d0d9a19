"""A suite's content, its hashes, and the prompts document the gateway fetches (pure).

The **items document** is JSON Lines of ``{"item_id", "prompt"}`` in suite order, UTF-8, compact
separators, one ``\\n`` after every line: the exact bytes the gateway hashes. A multiple-choice
prompt is rendered with its choices (``A. ...``) and ends with ``Answer:`` (``정답:`` for Korean).

The **content hash** is the sha256 of a canonical JSON of the kind and every item with its key:
any change to a prompt, a choice or a key changes it; the suite's name and version do not.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fmc_scoring.values import AnswerKey, GradableItem, ItemKind, default_labels

ANSWER_CUE = {"ko": "정답:", "en": "Answer:"}


class SuiteSource(StrEnum):
    """Where a suite's items came from: a file format, the API, or the bundled demo."""

    JSONL = "jsonl"
    LM_EVAL = "lm-eval"
    HF_JSONL = "hf-jsonl"
    API = "api"
    DEMO = "demo"


@dataclass(frozen=True)
class ItemContent:
    item_id: str
    prompt: str
    key: AnswerKey
    choices: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()

    def effective_labels(self) -> tuple[str, ...]:
        return self.labels or tuple(default_labels(len(self.choices)))

    def gradable(self) -> GradableItem:
        return GradableItem(self.item_id, self.key, self.choices, self.effective_labels())


@dataclass(frozen=True)
class SuiteContent:
    key: str
    version: str
    title: str
    language: str
    kind: ItemKind
    items: tuple[ItemContent, ...]
    demo: bool = False
    source: SuiteSource = SuiteSource.JSONL

    def __post_init__(self) -> None:
        if not self.items:
            raise ValueError("a suite needs at least one item")
        seen: set[str] = set()
        for item in self.items:
            if item.item_id in seen:
                raise ValueError(f"item_id {item.item_id!r} appears twice")
            seen.add(item.item_id)
            if item.key.kind != self.kind:
                raise ValueError(f"item {item.item_id!r} has a {item.key.kind} key in a {self.kind} suite")
            if self.kind == ItemKind.MULTIPLE_CHOICE:
                _check_choices(item)


def _check_choices(item: ItemContent) -> None:
    if len(item.choices) < 2:
        raise ValueError(f"item {item.item_id!r}: a multiple-choice item needs at least two choices")
    if item.labels and len(item.labels) != len(item.choices):
        raise ValueError(f"item {item.item_id!r}: one label per choice")
    if item.key.choice is None or not 0 <= item.key.choice < len(item.choices):
        raise ValueError(f"item {item.item_id!r}: the answer must be one of the choices")


@dataclass(frozen=True)
class Prompt:
    """What the gateway may see of an item: no key."""

    item_id: str
    prompt: str
    choices: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()


def render_prompt(prompt: Prompt, language: str) -> str:
    if not prompt.choices:
        return prompt.prompt
    labels = prompt.labels or tuple(default_labels(len(prompt.choices)))
    lines = [prompt.prompt, *(f"{label}. {text}" for label, text in zip(labels, prompt.choices, strict=True))]
    lines.append(ANSWER_CUE.get(language, ANSWER_CUE["en"]))
    return "\n".join(lines)


def items_document(language: str, prompts: Iterable[Prompt]) -> bytes:
    """The prompts only, exactly as the gateway receives them (never a key)."""
    return b"".join(
        json.dumps(
            {"item_id": prompt.item_id, "prompt": render_prompt(prompt, language)},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        + b"\n"
        for prompt in prompts
    )


def loglikelihood_context(prompt: Prompt, language: str) -> str:
    """A log-likelihood item's context: the question and the answer cue, without lettered choices."""
    return f"{prompt.prompt}\n{ANSWER_CUE.get(language, ANSWER_CUE['en'])}"


def continuation_of(choice: str) -> str:
    """The text scored for one choice: the choice after a space (as lm-evaluation-harness's
    ``target_delimiter``); per-byte normalisation counts these bytes."""
    return f" {choice}"


def loglikelihood_document(language: str, prompts: Iterable[Prompt]) -> bytes:
    """The items of a log-likelihood run: ``{"item_id", "context", "continuations"}`` lines (no key)."""
    return b"".join(
        json.dumps(
            {
                "item_id": prompt.item_id,
                "context": loglikelihood_context(prompt, language),
                "continuations": [continuation_of(choice) for choice in prompt.choices],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        + b"\n"
        for prompt in prompts
    )


def prompts_of(suite: SuiteContent) -> list[Prompt]:
    return [Prompt(item.item_id, item.prompt, item.choices, item.labels) for item in suite.items]


def key_json(key: AnswerKey) -> dict[str, Any]:
    if key.kind == ItemKind.MULTIPLE_CHOICE:
        return {"kind": key.kind, "choice": key.choice}
    if key.kind == ItemKind.NUMERIC:
        return {"kind": key.kind, "number": key.number, "rel_tol": key.rel_tol}
    if key.kind == ItemKind.CODE:
        return {"kind": key.kind, "tests": key.tests, "entry_point": key.entry_point}
    return {"kind": key.kind, "answers": list(key.answers)}


def key_from_json(data: dict[str, Any]) -> AnswerKey:
    kind = ItemKind(data["kind"])
    if kind == ItemKind.MULTIPLE_CHOICE:
        return AnswerKey(kind, choice=int(data["choice"]))
    if kind == ItemKind.NUMERIC:
        return AnswerKey(kind, number=float(data["number"]), rel_tol=float(data.get("rel_tol", 1e-6)))
    if kind == ItemKind.CODE:
        return AnswerKey(kind, tests=str(data["tests"]), entry_point=data.get("entry_point"))
    return AnswerKey(kind, answers=tuple(str(a) for a in data["answers"]))


def content_hash(kind: ItemKind, items: Sequence[ItemContent]) -> str:
    canonical = {
        "kind": kind,
        "items": [
            {
                "item_id": item.item_id,
                "prompt": item.prompt,
                "choices": list(item.choices),
                "labels": list(item.labels),
                "key": key_json(item.key),
            }
            for item in items
        ],
    }
    encoded = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
