"""misbehaving-lm: a SIMULATED model for failure tests (see ../../README.md); no weights, nothing learned.

The first word of the prompt picks the answer:

* ``nul`` -- text holding a NUL character (``"before\\x00after"``);
* ``huge`` -- ``completion_tokens`` of 2**31 + 7 (fits the contract's INT64, not a 32-bit column);
* ``wrongtype`` -- ``prompt_tokens`` as a string tensor, not the integer the config declares;
* ``sleep`` -- waits ``sleep_seconds`` (second word, default 30) before answering;
* anything else -- the prompt's words, as text.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils  # type: ignore[import-not-found]


class TritonPythonModel:
    async def execute(self, requests: list[Any]) -> list[Any]:
        return [await self._execute_one(request) for request in requests]

    async def _execute_one(self, request: Any) -> Any:
        raw = pb_utils.get_input_tensor_by_name(request, "prompt").as_numpy().reshape(-1)[0]
        prompt = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
        words = prompt.split()
        kind = words[0] if words else ""
        text, prompt_tokens, completion_tokens = prompt, len(words), len(words)
        prompt_array = np.array([prompt_tokens], dtype=np.int64)
        if kind == "nul":
            text = "before\x00after"
        elif kind == "huge":
            completion_tokens = 2**31 + 7
        elif kind == "wrongtype":
            prompt_array = np.array([b"many"], dtype=np.object_)
        elif kind == "sleep":
            await asyncio.sleep(float(words[1]) if len(words) > 1 else 30.0)
        return pb_utils.InferenceResponse(
            output_tensors=[
                pb_utils.Tensor("text", np.array([text.encode("utf-8")], dtype=np.object_)),
                pb_utils.Tensor("prompt_tokens", prompt_array),
                pb_utils.Tensor("completion_tokens", np.array([completion_tokens], dtype=np.int64)),
            ]
        )
