"""demo-lm-batched: demo-lm's answers, in batches, after a simulated generation time per batch.

A SIMULATED model like demo-lm (see ../../README.md): free text is the first ``max_tokens`` words
after the last ``Question:``. It shows the contract with dynamic batching, and gives benchmarks a
model whose time goes into "generating" rather than into the CPU it shares with its clients. The
wait is ``asyncio.sleep`` in an async ``execute``, so the stub process stays idle meanwhile.
Only numpy, the standard library and ``triton_python_backend_utils`` (provided at run time).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils  # type: ignore[import-not-found]

_QUESTION_MARKER = "Question:"


def complete(prompt: str, max_tokens: int) -> str:
    _, marker, after = prompt.rpartition(_QUESTION_MARKER)
    return " ".join((after if marker else prompt).split()[:max_tokens])


def _parameter(model_config: dict[str, Any], key: str, default: str) -> str:
    value = model_config.get("parameters", {}).get(key, {}).get("string_value")
    return value if isinstance(value, str) and value else default


class TritonPythonModel:
    def initialize(self, args: dict[str, str]) -> None:
        model_config: dict[str, Any] = json.loads(args["model_config"])
        self.generation_seconds = float(_parameter(model_config, "generation_ms", "0")) / 1000
        self.default_max_tokens = int(_parameter(model_config, "default_max_tokens", "8"))

    async def execute(self, requests: list[Any]) -> list[Any]:
        if self.generation_seconds > 0:
            await asyncio.sleep(self.generation_seconds)
        return [self._one(request) for request in requests]

    def _one(self, request: Any) -> Any:
        raw = pb_utils.get_input_tensor_by_name(request, "prompt").as_numpy().reshape(-1)[0]
        prompt = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
        max_tokens = self.default_max_tokens
        limit = pb_utils.get_input_tensor_by_name(request, "max_tokens")
        if limit is not None:
            max_tokens = int(limit.as_numpy().reshape(-1)[0])
        if max_tokens < 1:
            return pb_utils.InferenceResponse(
                output_tensors=[],
                error=pb_utils.TritonError(f"input 'max_tokens' must be >= 1, got {max_tokens}"),
            )
        text = complete(prompt, max_tokens)
        return pb_utils.InferenceResponse(
            output_tensors=[
                pb_utils.Tensor("text", np.array([[text.encode("utf-8")]], dtype=np.object_)),
                pb_utils.Tensor("prompt_tokens", np.array([[len(prompt.split())]], dtype=np.int32)),
                pb_utils.Tensor("completion_tokens", np.array([[len(text.split())]], dtype=np.int32)),
            ]
        )
