"""trtllm-ensemble-lm: TensorRT-LLM's ensemble signature, answered without an engine.

Each request (a batch of one, or more) gets the first ``max_tokens`` words of each prompt in
``text_output``; the log-prob outputs are zeros. Only numpy and ``triton_python_backend_utils``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils  # type: ignore[import-not-found]


def _text(value: Any) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


class TritonPythonModel:
    def execute(self, requests: list[Any]) -> list[Any]:
        responses: list[Any] = []
        for request in requests:
            prompts = pb_utils.get_input_tensor_by_name(request, "text_input").as_numpy()
            limits = pb_utils.get_input_tensor_by_name(request, "max_tokens").as_numpy().reshape(-1)
            batch = prompts.shape[0]
            texts = [
                " ".join(_text(prompts[row].reshape(-1)[0]).split()[: int(limits[min(row, limits.size - 1)])])
                for row in range(batch)
            ]
            output = np.array([[text.encode("utf-8")] for text in texts], dtype=np.object_)
            tensors = [
                pb_utils.Tensor("text_output", output),
                pb_utils.Tensor("cum_log_probs", np.zeros((batch, 1), dtype=np.float32)),
                pb_utils.Tensor("output_log_probs", np.zeros((batch, 1, 1), dtype=np.float32)),
                pb_utils.Tensor("context_logits", np.zeros((batch, 1, 1), dtype=np.float32)),
                pb_utils.Tensor("generation_logits", np.zeros((batch, 1, 1, 1), dtype=np.float32)),
                pb_utils.Tensor("batch_index", np.zeros((batch, 1), dtype=np.int32)),
            ]
            responses.append(pb_utils.InferenceResponse(output_tensors=tensors))
        return responses
