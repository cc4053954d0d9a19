"""Answering one prompt on one Triton endpoint over gRPC (default) or HTTP (tritonclient's asyncio clients).

Every tritonclient or transport error is turned into an ``InferenceFailure`` of a kind the executor
acts on: the endpoint is down (the breaker counts it, the item waits), the request timed out or hit
a transient error (retried a bounded number of times), or the model itself refused the item (stored
as that item's answer: an error is what the model answered).
"""

from __future__ import annotations

import asyncio
import json
import math
import struct
import time
from collections.abc import Mapping, Sequence
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
from tritonclient.grpc import service_pb2
from tritonclient.grpc._utils import _get_inference_request, get_error_grpc
from tritonclient.utils import InferenceServerException

from fmc_common.events.inference import DecodingParameters, InferenceProtocol, ServingConvention
from fmc_gateway.serving import loglikelihood as loglik
from fmc_gateway.serving.conventions import COUNTS, ReplyInvalid, Transport, convention_of, tensors_of
from fmc_gateway.serving.openai_chat import (
    CHAT_PATH,
    DONE,
    MODELS_PATH,
    EventReader,
    chunk_of,
    error_message,
    served_models,
)
from fmc_gateway.serving.prompts import Prompt, TextSink
from fmc_gateway.serving.protocol import STREAMED, Reply, text_of
from fmc_gateway.triton.hosts import host_port_of
from fmc_gateway.triton.pods import TritonPods

# Reconnect quickly after a restart of Triton: gRPC's default backoff grows to two minutes.
GRPC_CHANNEL_ARGS = [
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2000),
]
RETARGET_GRACE_SECONDS = 120.0
"""How long a channel to a former pod set stays open for the requests already on it."""
_DOWN_GRPC = {"StatusCode.UNAVAILABLE", "StatusCode.NOT_FOUND"}
_TRANSIENT_GRPC = {"StatusCode.RESOURCE_EXHAUSTED", "StatusCode.ABORTED", "StatusCode.UNKNOWN"}
# Triton's own phrasing when the model is not loaded (HTTP answers these with a bare 400).
_DOWN_WORDS = ("is not found", "is not ready")
_LENGTH = struct.Struct("<I")
# Outputs read straight off a gRPC response's raw contents (one element of these types); any other
# output goes through tritonclient's numpy reading, so an answer outside the contract reads as before.
_RAW_SCALARS = frozenset({"BYTES", "INT32", "INT64"})
_OTHER = object()


def bytes_element(raw: bytes) -> bytes:
    """One element of a BYTES tensor as Triton reads it: its length (4 bytes little-endian), its bytes."""
    return _LENGTH.pack(len(raw)) + raw


def raw_scalar(datatype: str, shape: Sequence[int], content: bytes) -> Any:
    """The one element of an output tensor read from its raw contents (``bytes`` for BYTES, ``int`` for
    INT32 and INT64), or ``_OTHER`` when the tensor is anything else (then numpy reads it)."""
    if math.prod(shape) != 1:
        return _OTHER
    if datatype == "BYTES":
        if len(content) >= 4 and _LENGTH.unpack_from(content)[0] == len(content) - 4:
            return content[4:]
    elif (datatype == "INT32" and len(content) == 4) or (datatype == "INT64" and len(content) == 8):
        return int.from_bytes(content, "little", signed=True)
    return _OTHER


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
    if isinstance(error, ReplyInvalid):
        # A response outside the convention is the model's answer to that item, not an outage.
        return InferenceFailure(FailureKind.MODEL_ERROR, f"invalid-answer: {error}")
    if isinstance(error, TimeoutError | httpx.TimeoutException):
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
    if isinstance(error, OSError | ConnectionError | httpx.TransportError):
        return InferenceFailure(FailureKind.ENDPOINT_DOWN, repr(error))
    # aiohttp's client errors (HTTP protocol) are neither OSError nor tritonclient's.
    if type(error).__module__.startswith("aiohttp"):
        return InferenceFailure(FailureKind.ENDPOINT_DOWN, repr(error))
    return InferenceFailure(FailureKind.TRANSIENT, repr(error))


class _Pieces:
    """The pieces of one answer as they arrive: each handed to ``on_text``, the first one's time kept."""

    def __init__(self, on_text: TextSink | None) -> None:
        self.replies: list[Reply] = []
        self.first_text_at: float | None = None
        self._on_text = on_text

    def add(self, reply: Reply) -> None:
        self.replies.append(reply)
        if reply.text:
            if self.first_text_at is None:
                self.first_text_at = time.perf_counter()
            if self._on_text is not None:
                self._on_text(reply.text)


class _PodRoundRobin(httpx.AsyncBaseTransport):
    """Sends each HTTP request to the next pod behind the address (from the pods' last resolution),
    keeping the address's name as the Host header and the TLS server name; the address itself while it
    has one pod or none. Connections are pooled per pod."""

    def __init__(self, pods: TritonPods, url: str, limits: httpx.Limits) -> None:
        self._inner = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
        self._pods = pods
        self._url = url
        self._turn = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        pods = self._pods.pods(self._url)
        if len(pods) > 1:
            pod = httpx.URL(f"http://{pods[self._turn % len(pods)]}")
            self._turn += 1
            # The Host header was set from the address when the request was built; TLS checks its name.
            request.extensions = {**request.extensions, "sni_hostname": request.url.host}
            request.url = request.url.copy_with(host=pod.host, port=pod.port)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


class ModelClient:
    """One connection to one endpoint (a gRPC channel or an HTTP connection pool), shared by its requests.

    The endpoint's serving convention builds each request and reads each answer
    (``fmc_gateway.serving.conventions``); its transport is a unary ``infer``, a gRPC stream (a
    decoupled model), a ``POST`` to Triton's generate extension, or an OpenAI-compatible
    ``POST /v1/chat/completions`` read as server-sent events. Streamed answers are handed on piece
    by piece and their time to first token measured.
    """

    def __init__(
        self,
        address: EndpointAddress,
        datatypes: Mapping[str, str],
        batched: bool = False,
        pods: TritonPods | None = None,
    ) -> None:
        self.address = address
        self._datatypes = dict(datatypes)
        self._batched = batched
        self._grpc: Any = None
        self._http: Any = None
        self._json: httpx.AsyncClient | None = None
        self._fixed: dict[DecodingParameters, list[Any]] = {}
        self._retired: list[asyncio.TimerHandle] = []
        self._templates: dict[DecodingParameters, Any] = {}
        self._convention = convention_of(address.convention)
        grpc = address.protocol == InferenceProtocol.GRPC
        self._transport = self._convention.transport(grpc)
        tensors = tensors_of(address.convention)
        module: Any = grpcclient if grpc else httpclient
        self._prompt_input = tensors.prompt_input if tensors is not None else ""
        self._output_names = tensors.outputs_for(self._datatypes) if tensors is not None else ()
        self._outputs = [module.InferRequestedOutput(name) for name in self._output_names]
        required = tensors.required_outputs if tensors is not None else {}
        # The datatypes each output may be read raw in: those the convention requires of it (the
        # text's BYTES, counts' integers); an optional count output (vLLM's) is an integer.
        self._raw_datatypes = {name: _RAW_SCALARS & required.get(name, COUNTS) for name in self._output_names}
        if self._transport in (Transport.GENERATE, Transport.CHAT):
            scheme = "https" if address.ssl else "http"
            # No credential is configured for a team's server: no Authorization header, ever, and
            # nothing taken from the environment (no .netrc, no proxy that would see the prompts).
            limits = httpx.Limits(max_connections=1024)
            self._json = httpx.AsyncClient(
                base_url=f"{scheme}://{address.host_port}",
                limits=limits,
                trust_env=False,
                # The pods behind the address, in turn (like the gRPC channel's round robin).
                transport=_PodRoundRobin(pods, address.url, limits) if pods is not None else None,
            )
        elif grpc:
            # One channel over every pod behind the address (round robin) when pods are expanded.
            target, args = (
                pods.channel(address.url) if pods is not None else (address.host_port, GRPC_CHANNEL_ARGS)
            )
            self._grpc = grpc_aio.InferenceServerClient(target, ssl=address.ssl, channel_args=args)
            if pods is not None:
                pods.watch(address.url, self._retarget)
        else:
            self._http = http_aio.InferenceServerClient(address.host_port, ssl=address.ssl, conn_limit=1024)

    def _retarget(self, target: str, args: list[tuple[str, Any]]) -> None:
        """The pods behind the address changed: new requests take a new channel; the old one is closed
        once the requests on it have had their time (``RETARGET_GRACE_SECONDS``)."""
        old = self._grpc
        self._grpc = grpc_aio.InferenceServerClient(target, ssl=self.address.ssl, channel_args=args)
        task = asyncio.get_running_loop().call_later(
            RETARGET_GRACE_SECONDS, lambda: asyncio.ensure_future(old.close())
        )
        self._retired.append(task)

    async def close(self) -> None:
        for pending in self._retired:
            pending.cancel()
        if self._json is not None:
            await self._json.aclose()
            return
        client = self._grpc or self._http
        await client.close()

    def _inputs(self, prompt: Prompt, decoding: DecodingParameters, module: Any) -> list[Any]:
        shape = [1, 1] if self._batched else [1]
        text_name = self._prompt_input
        text = module.InferInput(text_name, shape, "BYTES")
        raw_text = text_of(prompt).encode("utf-8")
        text.set_data_from_numpy(np.array([raw_text], dtype=np.object_).reshape(shape))
        fixed = self._fixed.get(decoding)
        if fixed is None:
            # Built once per run's parameters and shared by its requests: tritonclient serialises
            # the inputs synchronously when a request is sent, so sharing them is safe.
            stream = self._transport == Transport.STREAM
            values = self._convention.request(prompt, decoding, self._datatypes, stream)
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

    def _request(self, prompt: Prompt, decoding: DecodingParameters) -> Any:
        """The gRPC request for one item: a copy of the request built once per decoding parameters
        (every input, the outputs), its first raw input replaced by this item's prompt.

        The template is built by tritonclient from the same inputs as before, so the bytes sent are
        the same; a copy and one assignment instead of building tensor objects and numpy arrays per
        item (``_inputs`` puts the prompt first).
        """
        template = self._templates.get(decoding)
        if template is None:
            template = _get_inference_request(
                model_name=self.address.model_name,
                inputs=self._inputs(prompt, decoding, grpcclient),
                model_version=self.address.model_version,
                request_id="",
                outputs=self._outputs,
                sequence_id=0,
                sequence_start=False,
                sequence_end=False,
                priority=0,
                timeout=None,
                parameters=None,
            )
            self._templates[decoding] = template
        request = service_pb2.ModelInferRequest()
        request.CopyFrom(template)
        request.raw_input_contents[0] = bytes_element(text_of(prompt).encode("utf-8"))
        return request

    async def ready(self, timeout: float) -> bool:
        """Whether the server answers that the model is ready (False on any failure or after ``timeout``)."""
        try:
            async with asyncio.timeout(timeout):
                if self._transport == Transport.CHAT:
                    assert self._json is not None
                    response = await self._json.get(MODELS_PATH)
                    listed = served_models(response.json()) if response.status_code == 200 else []
                    return any(model.id == self.address.model_name for model in listed)
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

        ``on_text`` receives each piece of the text as it arrives (once, whole, when not streamed).
        Raw-text conventions take a text prompt (chat messages are rendered by the caller first).
        """
        item = Prompt.of(prompt)
        if item.text is None and self._transport != Transport.CHAT:
            raise InferenceFailure(
                FailureKind.MODEL_ERROR,
                f"convention {self.address.convention} takes a text prompt: render the messages first",
            )
        streamed = self._transport in STREAMED
        pieces = _Pieces(on_text if streamed else None)
        started = time.perf_counter()
        try:
            version = await self._call(item, decoding, timeout, pieces)
            reply = self._convention.join(pieces.replies)
        except Exception as exc:
            raise classify(exc) from exc
        if on_text is not None and not streamed:
            on_text(reply.text)
        first = pieces.first_text_at
        return Answer(
            text=reply.text,
            prompt_tokens=reply.prompt_tokens,
            completion_tokens=reply.completion_tokens,
            model_version=version,
            latency_seconds=time.perf_counter() - started,
            ttft_seconds=first - started if streamed and first is not None else None,
        )

    async def loglikelihoods(
        self, context: str, continuations: Sequence[str], decoding: DecodingParameters, timeout: float
    ) -> Answer:
        """Each continuation's log-likelihood after ``context`` (``serving/loglikelihood.py``), one
        request per continuation; the answer's text is their canonical JSON. Raises ``InferenceFailure``."""
        started = time.perf_counter()
        answers: list[loglik.Loglikelihood] = []
        version = ""
        try:
            for continuation in continuations:
                answer, version = await self._loglikelihood(context, continuation, decoding, timeout)
                answers.append(answer)
        except Exception as exc:
            raise classify(exc) from exc
        return Answer(
            text=loglik.loglikelihoods_text(answers),
            prompt_tokens=None,
            completion_tokens=None,
            model_version=version,
            latency_seconds=time.perf_counter() - started,
        )

    async def _loglikelihood(
        self, context: str, continuation: str, decoding: DecodingParameters, timeout: float
    ) -> tuple[loglik.Loglikelihood, str]:
        if self._transport == Transport.CHAT:
            assert self._json is not None
            body = loglik.completions_request(self.address.model_name, context, continuation)
            async with asyncio.timeout(timeout):
                response = await self._json.post(loglik.COMPLETIONS_PATH, json=body, timeout=timeout)
            if response.status_code != 200:
                raise http_refusal(response.status_code, response.content)
            try:
                answer = response.json()
            except ValueError as exc:
                raise ReplyInvalid(f"the completion is not JSON: {response.text[:200]!r}") from exc
            return loglik.completions_loglikelihood(answer, context, continuation), ""
        if self.address.convention != ServingConvention.FMC_TEXT:
            raise InferenceFailure(
                FailureKind.MODEL_ERROR, f"convention {self.address.convention} has no {loglik.EXTENSION}"
            )
        return await self._infer_loglikelihood(context, continuation, decoding, timeout)

    async def _infer_loglikelihood(
        self, context: str, continuation: str, decoding: DecodingParameters, timeout: float
    ) -> tuple[loglik.Loglikelihood, str]:
        """fmc-text's extension: ``prompt`` = context, ``continuation``; ``log_probs``, ``token_count``."""
        grpc = self._grpc is not None
        module: Any = grpcclient if grpc else httpclient
        shape = [1, 1] if self._batched else [1]
        extra = module.InferInput(loglik.CONTINUATION_INPUT, shape, "BYTES")
        extra.set_data_from_numpy(np.array([continuation.encode("utf-8")], dtype=np.object_).reshape(shape))
        inputs = [*self._inputs(Prompt(text=context), decoding, module), extra]
        names = (loglik.LOG_PROBS_OUTPUT, loglik.TOKEN_COUNT_OUTPUT)
        outputs = [module.InferRequestedOutput(name) for name in names]
        name, version = self.address.model_name, self.address.model_version
        if grpc:
            result = await self._grpc.infer(
                name, inputs, model_version=version, outputs=outputs, client_timeout=timeout
            )
            served = str(result.get_response().model_version)
        else:
            async with asyncio.timeout(timeout):
                result = await self._http.infer(name, inputs, model_version=version, outputs=outputs)
            served = str(result.get_response().get("model_version", ""))
        return loglik.triton_loglikelihood({n: result.as_numpy(n) for n in names}), served

    async def _call(
        self, prompt: Prompt, decoding: DecodingParameters, timeout: float, pieces: _Pieces
    ) -> str:
        """Send the request on the convention's transport, adding the answer's pieces; the model version."""
        if self._transport == Transport.CHAT:
            return await self._post_chat(prompt, decoding, timeout, pieces)
        if self._transport == Transport.GENERATE:
            answer, version = await self._post_generate(prompt, decoding, timeout)
            pieces.add(self._read(answer))
            return version
        if self._transport == Transport.STREAM:
            return await self._stream(prompt, decoding, timeout, pieces)
        if self._grpc is not None:
            # The service's own unary call, as tritonclient's ``infer`` makes it (no headers, no
            # compression), with the request built from the template. gRPC enforces the deadline
            # itself (DEADLINE_EXCEEDED): no asyncio timer per request.
            try:
                response = await self._grpc._client_stub.ModelInfer(
                    request=self._request(prompt, decoding), timeout=timeout
                )
            except grpc.RpcError as exc:
                raise get_error_grpc(exc) from exc
            pieces.add(self._read(self._outputs_of(response)))
            return str(response.model_version)
        async with asyncio.timeout(timeout):
            result = await self._http.infer(
                self.address.model_name,
                self._inputs(prompt, decoding, httpclient),
                model_version=self.address.model_version,
                outputs=self._outputs,
            )
        pieces.add(self._read({name: result.as_numpy(name) for name in self._output_names}))
        return str(result.get_response().get("model_version", ""))

    def _read(self, outputs: Mapping[str, Any]) -> Reply:
        """One response read by the convention; anything unreadable is an invalid answer, not an outage."""
        try:
            return self._convention.reply(outputs)
        except ReplyInvalid:
            raise
        except Exception as exc:
            raise ReplyInvalid(f"unreadable response: {exc!r}") from exc

    def _outputs_of(self, response: Any) -> dict[str, Any]:
        """The outputs asked for, name -> value (None when absent), in one pass over a gRPC response.

        One element of a datatype the convention expects of the output is read straight off the raw
        contents (``bytes`` or ``int``, what the conventions read out of a one-element array anyway);
        anything else is read by tritonclient as a numpy array, so the convention judges an answer
        outside its contract exactly as before.
        """
        raw = response.raw_output_contents
        found: dict[str, Any] = dict.fromkeys(self._output_names)
        result = None
        for index, output in enumerate(response.outputs):
            name = output.name
            allowed = self._raw_datatypes.get(name)
            if allowed is None:
                continue
            if index < len(raw) and output.datatype in allowed:
                value = raw_scalar(output.datatype, output.shape, raw[index])
                if value is not _OTHER:
                    found[name] = value
                    continue
            if result is None:
                result = grpcclient.InferResult(response)
            found[name] = result.as_numpy(name)
        return found

    async def _stream(
        self, prompt: Prompt, decoding: DecodingParameters, timeout: float, pieces: _Pieces
    ) -> str:
        """One request on a gRPC stream (a decoupled model): its responses, until the final one.

        Triton marks the last response of a request (``triton_final_response``) only when asked
        for an empty final response, which tritonclient's asyncio stream cannot ask: the request
        is built here and sent on the service's own stream call.
        """
        request = self._request(prompt, decoding)
        request.parameters["triton_enable_empty_final_response"].bool_param = True
        done = asyncio.Event()

        async def requests() -> Any:
            yield request
            await done.wait()  # keep the stream open until the final response arrived

        version = ""
        async with asyncio.timeout(timeout):
            call = self._grpc._client_stub.ModelStreamInfer(requests())
            try:
                async for response in call:
                    if response.error_message:
                        raise InferenceServerException(msg=response.error_message)
                    answer = response.infer_response
                    if answer.outputs:
                        version = answer.model_version
                        pieces.add(self._read(self._outputs_of(answer)))
                    final = answer.parameters.get("triton_final_response")
                    if final is not None and final.bool_param:
                        break
            except grpc.RpcError as exc:
                # The stream raises gRPC's own error; unary calls get tritonclient's: classify both alike.
                raise get_error_grpc(exc) from exc
            finally:
                done.set()
                call.cancel()
        return str(version)

    async def _post_chat(
        self, prompt: Prompt, decoding: DecodingParameters, timeout: float, pieces: _Pieces
    ) -> str:
        """An OpenAI-compatible chat completion, read as server-sent events.

        The model version is unknown (``""``): the OpenAI API names models, it has no versions.
        """
        assert self._json is not None
        body = {"model": self.address.model_name} | self._convention.request(
            prompt, decoding, self._datatypes, True
        )
        async with (
            asyncio.timeout(timeout),
            self._json.stream("POST", CHAT_PATH, json=body, timeout=timeout) as response,
        ):
            if response.status_code != 200:
                await _refused(response)
            kind = response.headers.get("content-type", "")
            if not kind.startswith("text/event-stream"):
                raise ReplyInvalid(f"the server did not stream its answer (content-type {kind!r})")
            try:
                await self._read_events(response, pieces)
            except httpx.TransportError as exc:
                if isinstance(exc, httpx.TimeoutException):
                    raise
                # The server took the request, then cut its answer (llama.cpp does so when a prompt
                # exceeds the context): retried, then the item's error, while the server answers.
                raise InferenceFailure(
                    FailureKind.TRANSIENT, f"the server broke off its streamed answer: {exc!r}"
                ) from exc
        return ""

    async def _read_events(self, response: httpx.Response, pieces: _Pieces) -> None:
        """Every chunk of the event stream until ``[DONE]`` (or its end), added as pieces."""
        reader = EventReader()
        async for line in response.aiter_lines():
            data = reader.line(line)
            if data == DONE:
                return
            if data is not None:
                pieces.add(self._read(chunk_of(data)))
        if (data := reader.end()) not in (None, DONE):
            pieces.add(self._read(chunk_of(data)))

    async def _post_generate(
        self, prompt: Prompt, decoding: DecodingParameters, timeout: float
    ) -> tuple[dict[str, Any], str]:
        """Triton's generate extension: the JSON answer and the model version it names."""
        assert self._json is not None
        path = f"/v2/models/{self.address.model_name}"
        if self.address.model_version:
            path += f"/versions/{self.address.model_version}"
        body = self._convention.request(prompt, decoding, self._datatypes, False)
        response = await self._json.post(f"{path}/generate", json=body, timeout=timeout)
        if response.status_code != 200:
            raise http_refusal(response.status_code, response.content)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise ReplyInvalid(f"the generate answer is not a JSON object: {response.text[:200]!r}")
        return answer, str(answer.get("model_version", ""))


async def _refused(response: httpx.Response) -> None:
    raise http_refusal(response.status_code, await response.aread())


def http_refusal(status: int, raw: bytes) -> InferenceFailure:
    """An HTTP refusal, in the server's words, classified like Triton's: 503 endpoint-down, 429, 502
    and 504 transient, any other the model's error for the item (400, 404, 422, ...)."""
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    text = raw.decode("utf-8", errors="replace")[:2000]
    message = error_message(body, text or f"HTTP {status}")
    return classify(InferenceServerException(msg=message, status=str(status)))


_NUMPY: Mapping[str, Any] = {
    "INT32": np.int32,
    "INT64": np.int64,
    "UINT64": np.uint64,
    "FP32": np.float32,
    "BOOL": np.bool_,
    "BYTES": np.object_,
}
