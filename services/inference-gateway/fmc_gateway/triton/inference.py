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

import grpc
import httpx
import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.grpc.aio as grpc_aio
import tritonclient.http as httpclient
import tritonclient.http.aio as http_aio
from tritonclient.grpc._utils import get_error_grpc
from tritonclient.utils import InferenceServerException

from fmc_common.events.inference import DecodingParameters, InferenceProtocol, ServingConvention
from fmc_gateway.serving.conventions import ReplyInvalid, Transport, convention_of
from fmc_gateway.serving.prompts import Prompt, TextSink
from fmc_gateway.triton.hosts import host_port_of

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
    prompt_tokens: int | None
    completion_tokens: int | None
    model_version: str
    latency_seconds: float
    ttft_seconds: float | None = None
    """Time to the first piece of text, when the answer was streamed; ``None`` otherwise (unknown)."""


@dataclass(frozen=True)
class EndpointAddress:
    """Where a model is served, as the gateway connects to it."""

    url: str
    protocol: InferenceProtocol
    model_name: str
    model_version: str = ""
    convention: ServingConvention = ServingConvention.FMC_TEXT

    @property
    def host_port(self) -> str:
        return host_port_of(self.url)

    @property
    def ssl(self) -> bool:
        return self.url.startswith(("https://", "grpcs://"))

    @property
    def label(self) -> str:
        version = self.model_version or "latest"
        label = f"{self.model_name}:{version}@{self.protocol}://{self.host_port}"
        return label if self.convention == ServingConvention.FMC_TEXT else f"{label}[{self.convention}]"


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
    """One connection to one endpoint (a gRPC channel or an HTTP connection pool), shared by its requests.

    The endpoint's serving convention builds each request and reads each answer
    (``fmc_gateway.serving.conventions``); its transport is a unary ``infer``, a gRPC stream (a
    decoupled model) or a ``POST`` to Triton's generate extension.
    """

    def __init__(self, address: EndpointAddress, datatypes: Mapping[str, str], batched: bool = False) -> None:
        self.address = address
        self._datatypes = dict(datatypes)
        self._batched = batched
        self._grpc: Any = None
        self._http: Any = None
        self._generate: httpx.AsyncClient | None = None
        self._fixed: dict[DecodingParameters, list[Any]] = {}
        self._convention = convention_of(address.convention)
        grpc = address.protocol == InferenceProtocol.GRPC
        self._transport = self._convention.transport(grpc)
        module: Any = grpcclient if grpc else httpclient
        self._output_names = self._convention.outputs_for(self._datatypes)
        self._outputs = [module.InferRequestedOutput(name) for name in self._output_names]
        if self._transport == Transport.GENERATE:
            scheme = "https" if address.ssl else "http"
            self._generate = httpx.AsyncClient(
                base_url=f"{scheme}://{address.host_port}", limits=httpx.Limits(max_connections=1024)
            )
        elif grpc:
            self._grpc = grpc_aio.InferenceServerClient(
                address.host_port, ssl=address.ssl, channel_args=GRPC_CHANNEL_ARGS
            )
        else:
            self._http = http_aio.InferenceServerClient(address.host_port, ssl=address.ssl, conn_limit=1024)

    async def close(self) -> None:
        if self._generate is not None:
            await self._generate.aclose()
            return
        client = self._grpc or self._http
        await client.close()

    def _inputs(self, prompt: str, decoding: DecodingParameters, module: Any) -> list[Any]:
        shape = [1, 1] if self._batched else [1]
        values = self._convention.request(prompt, decoding, self._datatypes)
        text_name = self._convention.prompt_input
        text = module.InferInput(text_name, shape, "BYTES")
        text.set_data_from_numpy(np.array([prompt.encode("utf-8")], dtype=np.object_).reshape(shape))
        fixed = self._fixed.get(decoding)
        if fixed is None:
            # Built once per run's parameters and shared by its requests: tritonclient serialises
            # the inputs synchronously when a request is sent, so sharing them is safe.
            fixed = []
            for name, value in values.items():
                if name == text_name:
                    continue
                datatype = self._datatypes[name]
                raw = value.encode("utf-8") if isinstance(value, str) else value
                tensor = module.InferInput(name, shape, datatype)
                tensor.set_data_from_numpy(np.array([raw], dtype=_NUMPY[datatype]).reshape(shape))
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

    async def infer(
        self,
        prompt: str | Prompt,
        decoding: DecodingParameters,
        timeout: float,
        on_text: TextSink | None = None,
    ) -> Answer:
        """The model's answer to ``prompt``; raises ``InferenceFailure``.

        ``on_text`` receives the answer's text as it arrives (once, whole, when not streamed).
        """
        item = Prompt.of(prompt)
        if item.text is None:
            raise InferenceFailure(FailureKind.MODEL_ERROR, "chat messages are not supported yet")
        prompt = item.text
        started = time.perf_counter()
        try:
            if self._transport == Transport.GENERATE:
                outputs, version = await self._post_generate(prompt, decoding, timeout)
            elif self._transport == Transport.STREAM:
                result = await self._stream(prompt, decoding, timeout)
                outputs = self._outputs_of(result)
                version = str(result.get_response().model_version)
            elif self._grpc is not None:
                # gRPC enforces the deadline itself (DEADLINE_EXCEEDED): no asyncio timer per request.
                result = await self._grpc.infer(
                    self.address.model_name,
                    self._inputs(prompt, decoding, grpcclient),
                    model_version=self.address.model_version,
                    outputs=self._outputs,
                    client_timeout=timeout,
                )
                outputs = self._outputs_of(result)
                version = str(result.get_response().model_version)
            else:
                async with asyncio.timeout(timeout):
                    result = await self._http.infer(
                        self.address.model_name,
                        self._inputs(prompt, decoding, httpclient),
                        model_version=self.address.model_version,
                        outputs=self._outputs,
                    )
                outputs = self._outputs_of(result)
                version = str(result.get_response().get("model_version", ""))
        except Exception as exc:
            raise classify(exc) from exc
        try:
            reply = self._convention.reply(outputs)
        except ReplyInvalid as exc:
            # A response outside the convention is the model's answer to that item, not an outage.
            raise InferenceFailure(FailureKind.MODEL_ERROR, f"invalid-answer: {exc}") from exc
        except Exception as exc:
            raise InferenceFailure(
                FailureKind.MODEL_ERROR, f"invalid-answer: unreadable response: {exc!r}"
            ) from exc
        if on_text is not None:
            on_text(reply.text)
        return Answer(
            text=reply.text,
            prompt_tokens=reply.prompt_tokens,
            completion_tokens=reply.completion_tokens,
            model_version=version,
            latency_seconds=time.perf_counter() - started,
        )

    def _outputs_of(self, result: Any) -> dict[str, Any]:
        return {name: result.as_numpy(name) for name in self._output_names}

    async def _stream(self, prompt: str, decoding: DecodingParameters, timeout: float) -> Any:
        """One request on a gRPC stream (a decoupled model, ``stream`` false): its first response."""
        done = asyncio.Event()
        request = {
            "model_name": self.address.model_name,
            "inputs": self._inputs(prompt, decoding, grpcclient),
            "model_version": self.address.model_version,
            "outputs": self._outputs,
        }

        async def requests() -> Any:
            yield request
            await done.wait()  # keep the stream open until the answer arrived

        async with asyncio.timeout(timeout):
            responses = self._grpc.stream_infer(requests())
            try:
                result, error = await anext(responses)
            except grpc.RpcError as exc:
                # The stream raises gRPC's own error; unary calls get tritonclient's: classify both alike.
                raise get_error_grpc(exc) from exc
            except StopAsyncIteration:
                raise InferenceFailure(
                    FailureKind.MODEL_ERROR, "the stream ended without a response"
                ) from None
            finally:
                done.set()
                responses.cancel()
        if error is not None:
            raise error
        return result

    async def _post_generate(
        self, prompt: str, decoding: DecodingParameters, timeout: float
    ) -> tuple[dict[str, Any], str]:
        """Triton's generate extension: the JSON answer and the model version it names."""
        assert self._generate is not None
        path = f"/v2/models/{self.address.model_name}"
        if self.address.model_version:
            path += f"/versions/{self.address.model_version}"
        body = self._convention.request(prompt, decoding, self._datatypes)
        try:
            response = await self._generate.post(f"{path}/generate", json=body, timeout=timeout)
        except httpx.TimeoutException as exc:
            raise InferenceFailure(FailureKind.TIMEOUT, repr(exc)) from exc
        except httpx.TransportError as exc:
            raise InferenceFailure(FailureKind.ENDPOINT_DOWN, repr(exc)) from exc
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code != 200 or not isinstance(answer, dict):
            message = str(answer.get("error", "")) if isinstance(answer, dict) else ""
            raise InferenceServerException(
                msg=message or response.text[:2000] or f"HTTP {response.status_code}",
                status=str(response.status_code),
            )
        return answer, str(answer.get("model_version", ""))


_NUMPY: Mapping[str, Any] = {
    "INT32": np.int32,
    "INT64": np.int64,
    "UINT64": np.uint64,
    "FP32": np.float32,
    "BOOL": np.bool_,
    "BYTES": np.object_,
}
