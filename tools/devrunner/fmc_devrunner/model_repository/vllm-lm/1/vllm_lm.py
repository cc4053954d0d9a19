"""vllm-lm: Triton's vLLM-backend signature, answered without a model (decoupled, as the backend).

The sampling parameters come from the ``sampling_parameters`` input (a JSON string) or, as the
backend also accepts, from the request's parameters (Triton's generate extension). The answer is the
first ``max_tokens`` words of the prompt, after the prompt itself unless ``exclude_input_in_output``
is true (vLLM's default includes it). With ``stream`` true each word is its own response (the
last one flagged final, as the backend sends it), and the pieces join into the unary answer. Token
counts (whitespace words) are sent on ``num_input_tokens`` / ``num_output_tokens`` only when
``return_num_input_tokens`` / ``return_num_output_tokens`` ask for them, as the backend does.

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


def _output(text: str, counts: dict[str, int]) -> Any:
    tensors = [pb_utils.Tensor("text_output", np.array([text.encode("utf-8")], dtype=np.object_))]
    tensors += [pb_utils.Tensor(name, np.array([value], dtype=np.uint32)) for name, value in counts.items()]
    return pb_utils.InferenceResponse(output_tensors=tensors)


def _flag(request: Any, name: str) -> bool:
    value = _scalar(request, name)
    return value is not None and bool(value)


class TritonPythonModel:
    def execute(self, requests: list[Any]) -> None:
        for request in requests:
            sender = request.get_response_sender()
            try:
                prompt = _text(_scalar(request, "text_input"))
                sampling = _sampling(request)
                max_tokens = int(sampling.get("max_tokens", DEFAULT_MAX_TOKENS))
                words = prompt.split()[:max_tokens]
                exclude = _flag(request, "exclude_input_in_output")
                stream = _flag(request, "stream")
                asked = {
                    "num_input_tokens": _flag(request, "return_num_input_tokens"),
                    "num_output_tokens": _flag(request, "return_num_output_tokens"),
                }
            except Exception as exc:  # the error is the answer, as vLLM's backend does
                sender.send(
                    pb_utils.InferenceResponse(error=pb_utils.TritonError(f"bad request: {exc}")),
                    flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL,
                )
                continue
            prefix = "" if exclude else prompt
            counted = {"num_input_tokens": len(prompt.split()), "num_output_tokens": len(words)}
            final = pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL
            if stream and words:
                # As the backend streams: one response per new piece (the pieces join into the unary
                # answer), each with the prompt's count and its own new tokens; the last one final.
                each = {"num_input_tokens": counted["num_input_tokens"], "num_output_tokens": 1}
                counts = {name: value for name, value in each.items() if asked[name]}
                for number, word in enumerate(words):
                    piece = prefix + word if number == 0 else " " + word
                    sender.send(_output(piece, counts), flags=final if number == len(words) - 1 else 0)
            else:
                counts = {name: value for name, value in counted.items() if asked[name]}
                sender.send(_output(prefix + " ".join(words), counts), flags=final)
        return None
