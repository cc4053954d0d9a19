"""demo-lm: a deterministic, SIMULATED language model for Triton's Python backend.

This is not a neural network. It exists so the platform can be exercised end to end
against a real Triton Inference Server without GPUs or model weights:

* Multiple-choice prompt (choice lines lettered ``A.``, ``B.``, ... and a final line
  ``Answer:``): the reply is one of the offered letters, picked by
  ``sha256(seed + prompt)``. Same prompt, same letter; accuracy is chance level.
* Any other prompt: the first ``max_tokens`` words of the text after the last
  ``Question:`` (or of the whole prompt if there is none).

Token counts are whitespace word counts. Only numpy and the standard library are used;
``triton_python_backend_utils`` is provided by the Python backend at run time.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils  # type: ignore[import-not-found]

_CHOICE_LINE = re.compile(r"^\s*([A-Z])[.)](?:\s|$)")
_QUESTION_MARKER = "Question:"
_ANSWER_MARKER = "Answer:"


def _choice_letters(prompt: str) -> list[str]:
    """Letters of the choices offered, or [] if the prompt is not a multiple-choice item."""
    lines = [line.strip() for line in prompt.splitlines() if line.strip()]
    if not lines or lines[-1] != _ANSWER_MARKER:
        return []
    letters = sorted({m.group(1) for line in lines[:-1] if (m := _CHOICE_LINE.match(line))})
    return letters if len(letters) >= 2 else []


def complete(prompt: str, max_tokens: int, seed: str) -> str:
    """The simulated completion of ``prompt`` (pure function, deterministic)."""
    letters = _choice_letters(prompt)
    if letters:
        digest = hashlib.sha256((seed + "\x00" + prompt).encode("utf-8")).digest()
        return letters[int.from_bytes(digest[:8], "big") % len(letters)]
    _, marker, after = prompt.rpartition(_QUESTION_MARKER)
    source = after if marker else prompt
    return " ".join(source.split()[:max_tokens])


def _string_parameter(model_config: dict[str, Any], key: str, default: str) -> str:
    value = model_config.get("parameters", {}).get(key, {}).get("string_value")
    return value if isinstance(value, str) and value else default


class TritonPythonModel:
    """Entry point looked up by the Triton Python backend."""

    def initialize(self, args: dict[str, str]) -> None:
        model_config: dict[str, Any] = json.loads(args["model_config"])
        self.default_max_tokens = int(_string_parameter(model_config, "default_max_tokens", "8"))
        self.seed = _string_parameter(model_config, "seed", "")
        if self.default_max_tokens < 1:
            raise ValueError("parameter default_max_tokens must be >= 1")

    def execute(self, requests: list[Any]) -> list[Any]:
        return [self._execute_one(request) for request in requests]

    def _execute_one(self, request: Any) -> Any:
        prompt_tensor = pb_utils.get_input_tensor_by_name(request, "prompt")
        prompt_array = prompt_tensor.as_numpy().reshape(-1)
        if prompt_array.size != 1:
            return _error(f"input 'prompt' must hold exactly one element, got {prompt_array.size}")
        raw = prompt_array[0]
        prompt = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)

        max_tokens = self.default_max_tokens
        max_tokens_tensor = pb_utils.get_input_tensor_by_name(request, "max_tokens")
        if max_tokens_tensor is not None:
            max_tokens_array = max_tokens_tensor.as_numpy().reshape(-1)
            if max_tokens_array.size != 1:
                return _error("input 'max_tokens' must hold exactly one element")
            max_tokens = int(max_tokens_array[0])
            if max_tokens < 1:
                return _error(f"input 'max_tokens' must be >= 1, got {max_tokens}")

        text = complete(prompt, max_tokens, self.seed)
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
