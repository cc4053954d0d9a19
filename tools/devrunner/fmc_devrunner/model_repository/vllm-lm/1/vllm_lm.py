"""vllm-lm: Triton's vLLM-backend signature, answered without a model (decoupled, as the backend).

The sampling parameters come from the ``sampling_parameters`` input (a JSON string) or, as the
backend also accepts, from the request's parameters (Triton's generate extension). The answer is the
first ``max_tokens`` words of the prompt, after the prompt itself unless ``exclude_input_in_output``
is true (vLLM's default includes it). With ``stream`` true each word is its own response.

Only numpy and ``triton_python_backend_utils`` (provided by the Python backend at run time).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils  # type: ignore[import-not-found]

DEFAULT_MAX_TOKENS = 16


def _scalar(request: Any, name: str) -> Any:
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    return None if tensor is None else tensor.as_numpy().reshape(-1)[0]


def _text(value: Any) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def _sampling(request: Any) -> dict[str, Any]:
    parameters: dict[str, Any] = json.loads(request.parameters() or "{}")
    raw = _scalar(request, "sampling_parameters")
    if raw is not None:
        parameters.update(json.loads(_text(raw) or "{}"))
    return parameters


def _output(text: str) -> Any:
    array = np.array([text.encode("utf-8")], dtype=np.object_)
    return pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("text_output", array)])


class TritonPythonModel:
    def execute(self, requests: list[Any]) -> None:
        for request in requests:
            sender = request.get_response_sender()
            try:
                prompt = _text(_scalar(request, "text_input"))
                sampling = _sampling(request)
                max_tokens = int(sampling.get("max_tokens", DEFAULT_MAX_TOKENS))
                words = prompt.split()[:max_tokens]
                exclude = _scalar(request, "exclude_input_in_output")
                stream = _scalar(request, "stream")
            except Exception as exc:  # the error is the answer, as vLLM's backend does
                sender.send(
                    pb_utils.InferenceResponse(error=pb_utils.TritonError(f"bad request: {exc}")),
                    flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL,
                )
                continue
            prefix = "" if exclude is not None and bool(exclude) else prompt
            if stream is not None and bool(stream):
                for number, word in enumerate(words):
                    sender.send(_output((prefix if number == 0 else "") + word + " "))
                sender.send(flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
            else:
                sender.send(
                    _output(prefix + " ".join(words)), flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL
                )
        return None
