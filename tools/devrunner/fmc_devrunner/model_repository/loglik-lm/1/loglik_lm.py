"""loglik-lm: a deterministic, SIMULATED language model that scores continuations (Triton Python backend).

Not a neural network: a stand-in so log-likelihood scoring can be exercised against a real Triton
server on the CPU. Its "tokens" are the whitespace-separated words of a text.

* With an input ``continuation``: ``log_probs`` is the sum over the continuation's words of
  ``-0.2`` for a word in the ``preferred`` parameter and ``-1.0 - 0.05 * bytes(word)`` for any other;
  ``token_count`` is the number of words. The context (``prompt``) is not looked at: the preference
  is the model's, the same for every question.
* Without it: ``text`` is the first ``max_tokens`` words of the prompt (as ``demo-lm`` does for a
  prompt that is not multiple choice), with word counts.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils  # type: ignore[import-not-found]

PREFERRED_LOGPROB = -0.2


def word_logprob(word: str, preferred: frozenset[str]) -> float:
    """The simulated log-probability of one word (token)."""
    if word in preferred:
        return PREFERRED_LOGPROB
    return -1.0 - 0.05 * len(word.encode("utf-8"))


def score(continuation: str, preferred: frozenset[str]) -> tuple[float, int]:
    """The sum of the continuation's word log-probs, and its word count (pure, deterministic)."""
    words = continuation.split()
    return sum(word_logprob(word, preferred) for word in words), len(words)


def _text(request: Any, name: str) -> str | None:
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    if tensor is None:
        return None
    values = tensor.as_numpy().reshape(-1)
    if values.size != 1:
        raise ValueError(f"input '{name}' must hold exactly one element, got {values.size}")
    raw = values[0]
    return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)


class TritonPythonModel:
    """Entry point looked up by the Triton Python backend."""

    def initialize(self, args: dict[str, str]) -> None:
        config: dict[str, Any] = json.loads(args["model_config"])
        raw = config.get("parameters", {}).get("preferred", {}).get("string_value", "")
        self.preferred = frozenset(word for word in raw.split(",") if word)

    def execute(self, requests: list[Any]) -> list[Any]:
        return [self._execute_one(request) for request in requests]

    def _execute_one(self, request: Any) -> Any:
        try:
            prompt = _text(request, "prompt") or ""
            continuation = _text(request, "continuation")
        except ValueError as exc:
            return _error(str(exc))
        if continuation is not None:
            logprob, count = score(continuation, self.preferred)
            if count < 1:
                return _error("input 'continuation' holds no word to score")
            return pb_utils.InferenceResponse(
                output_tensors=[
                    pb_utils.Tensor("log_probs", np.array([logprob], dtype=np.float32)),
                    pb_utils.Tensor("token_count", np.array([count], dtype=np.int32)),
                ]
            )
        max_tokens = 8
        tensor = pb_utils.get_input_tensor_by_name(request, "max_tokens")
        if tensor is not None:
            max_tokens = int(tensor.as_numpy().reshape(-1)[0])
        text = " ".join(prompt.split()[:max_tokens])
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
