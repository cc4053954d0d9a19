"""Answering one prompt on one Triton endpoint over gRPC (default) or HTTP (tritonclient's asyncio clients).

Every tritonclient or transport error is turned into an ``InferenceFailure`` of a kind the executor
acts on: the endpoint is down (the breaker counts it, the item waits), the request timed out or hit
a transient error (retried a bounded number of times), or the model itself refused the item (stored
as that item's answer: an error is what the model answered).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.grpc.aio as grpc_aio
import tritonclient.http as httpclient
import tritonclient.http.aio as http_aio
from tritonclient.utils import InferenceServerException

from fmc_common.events.inference import DecodingParameters, InferenceProtocol
from fmc_gateway.triton.hosts import host_port_of

OUTPUTS = ("text", "prompt_tokens", "completion_tokens")
# Reconnect quickly after a restart of Triton: gRPC's default backoff grows to two minutes.
GRPC_CHANNEL_ARGS = [
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2000),
]
_DOWN_GRPC = {"StatusCode.UNAVAILABLE", "StatusCode.NOT_FOUND"}
_TRANSIENT_GRPC = {"StatusCode.RESOURCE_EXHAUSTED", "StatusCode.ABORTED", "StatusCode.UNKNOWN"}
# Triton's own phrasing when the model is not loaded (HTTP answers these with a bare 400).
_DOWN_WORDS = ("is not found", "is not ready")


class FailureKind(StrEnum):
    ENDPOINT_DOWN = "endpoint-down"
    TIMEOUT = "timeout"
    TRANSIENT = "transient"
    MODEL_ERROR = "model-error"


class InferenceFailure(Exception):
    def __init__(self, kind: FailureKind, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message[:2000]


@dataclass(frozen=True)
class Answer:
    text: str
    prompt_tokens: int
    completion_tokens: int
    model_version: str
    latency_seconds: float


@dataclass(frozen=True)
class EndpointAddress:
    """Where a model is served, as the gateway connects to it."""

    url: str
    protocol: InferenceProtocol
    model_name: str
    model_version: str = ""

    @property
    def host_port(self) -> str:
        return host_port_of(self.url)

    @property
    def ssl(self) -> bool:
        return self.url.startswith(("https://", "grpcs://"))

    @property
    def label(self) -> str:
        version = self.model_version or "latest"
        return f"{self.model_name}:{version}@{self.protocol}://{self.host_port}"


def classify(error: BaseException) -> InferenceFailure:
    """The kind of a failure, from a tritonclient exception or a transport error."""
    if isinstance(error, InferenceFailure):
        return error
    if isinstance(error, TimeoutError):
        return InferenceFailure(FailureKind.TIMEOUT, "no answer before the request timeout")
    if isinstance(error, InferenceServerException):
        status = str(error.status() or "")
        message = str(error.message() or error)
        if status == "StatusCode.DEADLINE_EXCEEDED":
            return InferenceFailure(FailureKind.TIMEOUT, message)
        lowered = message.lower()
        if status in _DOWN_GRPC or status == "503" or any(word in lowered for word in _DOWN_WORDS):
            return InferenceFailure(FailureKind.ENDPOINT_DOWN, message)
        if status in _TRANSIENT_GRPC or status in {"429", "502", "504"}:
            return InferenceFailure(FailureKind.TRANSIENT, message)
        return InferenceFailure(FailureKind.MODEL_ERROR, message)
    if isinstance(error, OSError | ConnectionError):
        return InferenceFailure(FailureKind.ENDPOINT_DOWN, repr(error))
    # aiohttp's client errors (HTTP protocol) are neither OSError nor tritonclient's.
    if type(error).__module__.startswith("aiohttp"):
        return InferenceFailure(FailureKind.ENDPOINT_DOWN, repr(error))
    return InferenceFailure(FailureKind.TRANSIENT, repr(error))


class ModelClient:
    """One connection to one endpoint (a gRPC channel or an HTTP connection pool), shared by its requests."""

    def __init__(self, address: EndpointAddress, datatypes: Mapping[str, str], batched: bool = False) -> None:
        self.address = address
        self._datatypes = dict(datatypes)
        self._batched = batched
        self._grpc: Any = None
        self._http: Any = None
        self._fixed: dict[DecodingParameters, list[Any]] = {}
        module: Any = grpcclient if address.protocol == InferenceProtocol.GRPC else httpclient
        self._outputs = [module.InferRequestedOutput(name) for name in OUTPUTS]
        if address.protocol == InferenceProtocol.GRPC:
            self._grpc = grpc_aio.InferenceServerClient(
                address.host_port, ssl=address.ssl, channel_args=GRPC_CHANNEL_ARGS
            )
        else:
            self._http = http_aio.InferenceServerClient(address.host_port, ssl=address.ssl, conn_limit=1024)

    async def close(self) -> None:
        client = self._grpc or self._http
        await client.close()

    def _inputs(self, prompt: str, decoding: DecodingParameters, module: Any) -> list[Any]:
        shape = [1, 1] if self._batched else [1]
        text = module.InferInput("prompt", shape, "BYTES")
        text.set_data_from_numpy(np.array([prompt.encode("utf-8")], dtype=np.object_).reshape(shape))
        fixed = self._fixed.get(decoding)
        if fixed is None:
            # Built once per run's parameters and shared by its requests: tritonclient serialises
            # the inputs synchronously when a request is sent, so sharing them is safe.
            values = {
                "max_tokens": decoding.max_tokens,
                "temperature": decoding.temperature,
                "top_p": decoding.top_p,
                "seed": decoding.seed,
            }
            fixed = []
            for name, datatype in self._datatypes.items():
                if name == "prompt":
                    continue
                tensor = module.InferInput(name, shape, datatype)
                tensor.set_data_from_numpy(np.array([values[name]], dtype=_NUMPY[datatype]).reshape(shape))
                fixed.append(tensor)
            self._fixed[decoding] = fixed
        return [text, *fixed]

    async def ready(self, timeout: float) -> bool:
        """Whether the server answers that the model is ready (False on any failure or after ``timeout``)."""
        try:
            async with asyncio.timeout(timeout):
                client = self._grpc or self._http
                return bool(await client.is_model_ready(self.address.model_name, self.address.model_version))
        except Exception:
            return False

    async def infer(self, prompt: str, decoding: DecodingParameters, timeout: float) -> Answer:
        """The model's answer to ``prompt``; raises ``InferenceFailure``."""
        started = time.perf_counter()
        try:
            if self._grpc is not None:
                # gRPC enforces the deadline itself (DEADLINE_EXCEEDED): no asyncio timer per request.
                result = await self._grpc.infer(
                    self.address.model_name,
                    self._inputs(prompt, decoding, grpcclient),
                    model_version=self.address.model_version,
                    outputs=self._outputs,
                    client_timeout=timeout,
                )
                version = str(result.get_response().model_version)
            else:
                async with asyncio.timeout(timeout):
                    result = await self._http.infer(
                        self.address.model_name,
                        self._inputs(prompt, decoding, httpclient),
                        model_version=self.address.model_version,
                        outputs=self._outputs,
                    )
                version = str(result.get_response().get("model_version", ""))
        except Exception as exc:
            raise classify(exc) from exc
        try:
            return _answer(result, version, time.perf_counter() - started)
        except InferenceFailure:
            raise
        except Exception as exc:  # the endpoint answered something the contract does not allow
            raise InferenceFailure(
                FailureKind.MODEL_ERROR, f"invalid-answer: unreadable response: {exc!r}"
            ) from exc


def _answer(result: Any, version: str, latency: float) -> Answer:
    """The answer read from the response; a response outside the contract (a missing output, an output
    of another type) is the model's answer to that item: a ``MODEL_ERROR`` saying what is wrong."""
    values = {name: result.as_numpy(name) for name in OUTPUTS}
    missing = [name for name, value in values.items() if value is None or value.size != 1]
    if missing:
        raise InferenceFailure(FailureKind.MODEL_ERROR, f"the response lacks one element of {missing}")
    for name in ("prompt_tokens", "completion_tokens"):
        if values[name].dtype.kind not in "iu":
            raise InferenceFailure(
                FailureKind.MODEL_ERROR,
                f"invalid-answer: output {name} holds {values[name].dtype} values; "
                "the contract wants INT32 or INT64",
            )
    raw = values["text"].reshape(-1)[0]
    if not isinstance(raw, bytes | str):
        raise InferenceFailure(
            FailureKind.MODEL_ERROR,
            f"invalid-answer: output text holds {values['text'].dtype} values; the contract wants BYTES",
        )
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
    return Answer(
        text=text,
        prompt_tokens=int(values["prompt_tokens"].reshape(-1)[0]),
        completion_tokens=int(values["completion_tokens"].reshape(-1)[0]),
        model_version=version,
        latency_seconds=latency,
    )


_NUMPY: Mapping[str, Any] = {"INT32": np.int32, "INT64": np.int64, "FP32": np.float32, "BYTES": np.object_}
