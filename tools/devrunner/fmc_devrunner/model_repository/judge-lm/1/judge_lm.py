"""judge-lm: a deterministic, SIMULATED judge model for Triton's Python backend (fmc-text signature).

Not a neural network: a stand-in so judged suites run end to end against a real Triton server. It
reads the judge prompts scoring renders from its default (MT-Bench) templates:

* The **key phrase** of an item: the first line of the reference answer (between
  ``[The Start of Reference Answer]`` and its end marker) when the prompt has one, else the last
  word of the question (after ``[Question]``), stripped of punctuation; compared case-insensitively.
* **Single** (the prompt has ``[The Start of Assistant's Answer]``): ``Rating: [[9]]`` when the
  answer contains the key phrase, ``Rating: [[2]]`` otherwise.
* **Pairwise** (``Assistant A's Answer`` and ``Assistant B's Answer``): ``[[A]]`` or ``[[B]]`` for
  the one answer that contains the key phrase; when both or neither do, the ``position_bias``
  parameter decides: ``first`` -> ``[[A]]``, ``second`` -> ``[[B]]``, ``none`` -> ``[[C]]``.
* An answer containing ``GIBBERISH`` gets a judgement with no verdict in it (unparsable).
* Any other prompt: ``I cannot judge this.`` (no verdict).

Token counts are whitespace word counts. Only numpy and the standard library are used.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils  # type: ignore[import-not-found]

UNPARSABLE_WORD = "GIBBERISH"
_SECTION = re.compile(r"^\[(?P<name>[^\]]+)\]$")


def _sections(prompt: str) -> dict[str, str]:
    """The text under each ``[...]`` header line, by the header's name."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in prompt.splitlines():
        header = _SECTION.match(line.strip())
        if header:
            current = found.setdefault(header.group("name"), [])
            continue
        if current is not None:
            current.append(line)
    return {name: "\n".join(lines).strip() for name, lines in found.items()}


def key_phrase(sections: dict[str, str]) -> str:
    reference = sections.get("The Start of Reference Answer", "")
    if reference:
        return reference.splitlines()[0].strip().lower()
    words = sections.get("Question", "").split()
    return words[-1].strip(".,;:!?\"'()").lower() if words else ""


def _good(answer: str, phrase: str) -> bool:
    return bool(phrase) and phrase in answer.lower()


def judge(prompt: str, position_bias: str) -> str:
    """The simulated judgement of ``prompt`` (pure function, deterministic)."""
    sections = _sections(prompt)
    phrase = key_phrase(sections)
    single = sections.get("The Start of Assistant's Answer")
    if single is not None:
        if UNPARSABLE_WORD in single:
            return "The answer is hard to rate; I will not give a number."
        rating = 9 if _good(single, phrase) else 2
        return (
            f"The answer {'matches' if rating == 9 else 'misses'} the expected content. Rating: [[{rating}]]"
        )
    a = sections.get("The Start of Assistant A's Answer")
    b = sections.get("The Start of Assistant B's Answer")
    if a is None or b is None:
        return "I cannot judge this."
    if UNPARSABLE_WORD in a or UNPARSABLE_WORD in b:
        return "Both answers are interesting in their own ways."
    good_a, good_b = _good(a, phrase), _good(b, phrase)
    if good_a != good_b:
        return "Assistant A is better. [[A]]" if good_a else "Assistant B is better. [[B]]"
    verdict = {"first": "A", "second": "B"}.get(position_bias, "C")
    return f"The answers are equally good. [[{verdict}]]"


def _string_parameter(model_config: dict[str, Any], key: str, default: str) -> str:
    value = model_config.get("parameters", {}).get(key, {}).get("string_value")
    return value if isinstance(value, str) and value else default


class TritonPythonModel:
    """Entry point looked up by the Triton Python backend."""

    def initialize(self, args: dict[str, str]) -> None:
        model_config: dict[str, Any] = json.loads(args["model_config"])
        self.position_bias = _string_parameter(model_config, "position_bias", "first")
        if self.position_bias not in {"first", "second", "none"}:
            raise ValueError("parameter position_bias must be first, second or none")

    def execute(self, requests: list[Any]) -> list[Any]:
        return [self._execute_one(request) for request in requests]

    def _execute_one(self, request: Any) -> Any:
        prompt_array = pb_utils.get_input_tensor_by_name(request, "prompt").as_numpy().reshape(-1)
        if prompt_array.size != 1:
            return _error(f"input 'prompt' must hold exactly one element, got {prompt_array.size}")
        raw = prompt_array[0]
        prompt = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
        text = judge(prompt, self.position_bias)
        return pb_utils.InferenceResponse(
            output_tensors=[
                pb_utils.Tensor("text", np.array([text.encode("utf-8")], dtype=np.object_)),
                pb_utils.Tensor("prompt_tokens", np.array([len(prompt.split())], dtype=np.int32)),
                pb_utils.Tensor("completion_tokens", np.array([len(text.split())], dtype=np.int32)),
            ]
        )

    def finalize(self) -> None:
        """Nothing to release."""


def _error(message: str) -> Any:
    return pb_utils.InferenceResponse(output_tensors=[], error=pb_utils.TritonError(message))
