"""The readiness check before a run: the server is live, the model ready, and its signature fits the contract.

A Triton endpoint is asked for its server and model metadata; an OpenAI-compatible one
(``openai-chat``) for ``GET /v1/models``, which must list the endpoint's model name.
A failure says what the team can do about it. An unreachable server is not the team's verdict yet
(it may be restarting): the caller retries; a model that is not loaded or does not fit fails the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import httpx
import tritonclient.grpc.aio as grpc_aio
import tritonclient.http.aio as http_aio

from fmc_common.events.inference import DecodingParameters, InferenceProtocol, ServingConvention
from fmc_gateway.endpoints.contract import check_contract, check_protocol, signature_from_triton
from fmc_gateway.serving.openai_chat import MODELS_PATH, served_models, serving_stack
from fmc_gateway.triton.inference import GRPC_CHANNEL_ARGS, EndpointAddress


class ReadinessCode(StrEnum):
    UNREACHABLE = "endpoint-unreachable"
    """Not the team's verdict yet (the server may be restarting): the caller tries again."""
    NOT_READY = "model-not-ready"
    MISMATCH = "model-contract-mismatch"


@dataclass(frozen=True)
class Readiness:
    reachable: bool
    code: ReadinessCode | None = None
    reason: str | None = None
    server_version: str = ""
    model_version: str = ""
    serving_stack: str = ""
    """What serves the model, e.g. ``triton 2.51.0, backend python`` (server metadata, model config)."""
    violations: tuple[str, ...] = ()
    datatypes: Mapping[str, str] = field(default_factory=dict)
    batched: bool = False

    @property
    def ok(self) -> bool:
        return self.code is None


class _Probe:
    """The few calls of the check, with the same JSON shapes over gRPC and HTTP."""

    def __init__(self, address: EndpointAddress) -> None:
        self._grpc = address.protocol == InferenceProtocol.GRPC
        self._client: Any = (
            grpc_aio.InferenceServerClient(address.host_port, ssl=address.ssl, channel_args=GRPC_CHANNEL_ARGS)
            if self._grpc
            else http_aio.InferenceServerClient(address.host_port, ssl=address.ssl)
        )

    def _as_json(self) -> dict[str, Any]:
        return {"as_json": True} if self._grpc else {}

    async def live(self) -> bool:
        return bool(await self._client.is_server_live())

    async def server_metadata(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._client.get_server_metadata(**self._as_json())
        return result

    async def model_ready(self, name: str, version: str) -> bool:
        return bool(await self._client.is_model_ready(name, version))

    async def model_metadata(self, name: str, version: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._client.get_model_metadata(name, version, **self._as_json())
        return result

    async def model_config(self, name: str, version: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._client.get_model_config(name, version, **self._as_json())
        return result

    async def repository(self) -> list[dict[str, Any]]:
        if self._grpc:
            index = await self._client.get_model_repository_index(as_json=True)
            return list(index.get("models", []))
        return list(await self._client.get_model_repository_index())

    async def close(self) -> None:
        await self._client.close()


async def check_endpoint(
    address: EndpointAddress, decoding: DecodingParameters | None, timeout: float
) -> Readiness:
    """Check ``address`` against the contract (and the run's decoding parameters, when given)."""
    if address.convention == ServingConvention.OPENAI_CHAT:
        return await _check_openai(address, timeout)
    probe = _Probe(address)
    where = f"Triton at {address.host_port} ({address.protocol})"
    try:
        try:
            async with asyncio.timeout(timeout):
                live = await probe.live()
                server = await probe.server_metadata()
        except Exception as exc:
            return Readiness(
                reachable=False, code=ReadinessCode.UNREACHABLE, reason=f"{where} did not answer: {exc}"
            )
        if not live:
            return Readiness(reachable=False, code=ReadinessCode.UNREACHABLE, reason=f"{where} is not live")
        server_version = str(server.get("version", ""))
        async with asyncio.timeout(timeout):
            readiness = await _check_model(probe, address, decoding, where, server_version)
        if readiness.serving_stack:
            server_name = str(server.get("name", "") or "triton")
            stack = f"{server_name} {server_version}".strip() + f", {readiness.serving_stack}"
            readiness = replace(readiness, serving_stack=stack[:200])
        return readiness
    except TimeoutError:
        return Readiness(
            reachable=False, code=ReadinessCode.UNREACHABLE, reason=f"{where} did not answer in {timeout}s"
        )
    finally:
        await probe.close()


async def _check_model(
    probe: _Probe,
    address: EndpointAddress,
    decoding: DecodingParameters | None,
    where: str,
    server_version: str,
) -> Readiness:
    name, version = address.model_name, address.model_version
    shown = f"model '{name}'" + (f" version {version}" if version else "")
    try:
        ready = await probe.model_ready(name, version)
    except Exception:
        ready = False
    if not ready:
        state = await _repository_state(probe, name)
        return Readiness(
            reachable=True,
            code=ReadinessCode.NOT_READY,
            reason=f"{shown} is not ready on {where}{state}: load it (or fix its config.pbtxt and "
            "model files) and request the run again",
            server_version=server_version,
        )
    metadata = await probe.model_metadata(name, version)
    config = await probe.model_config(name, version)
    signature = signature_from_triton(metadata, config)
    check = check_contract(signature, decoding, address.convention)
    violations = (*check_protocol(address.convention, address.protocol), *check.violations)
    versions = [str(v) for v in metadata.get("versions", [])]
    model_version = version or max(versions, key=lambda v: (len(v), v), default="")
    if violations:
        return Readiness(
            reachable=True,
            code=ReadinessCode.MISMATCH,
            reason=f"{shown} on {where} does not fit the evaluation contract "
            f"(docs/triton-contract.md, convention {address.convention}): " + "; ".join(violations),
            server_version=server_version,
            model_version=model_version,
            violations=violations,
        )
    return Readiness(
        reachable=True,
        server_version=server_version,
        model_version=model_version,
        serving_stack=_backend_of(config),
        datatypes=check.datatypes,
        batched=signature.batched,
    )


async def _repository_state(probe: _Probe, name: str) -> str:
    try:
        models = await probe.repository()
    except Exception:
        return ""
    for model in models:
        if model.get("name") == name:
            state, why = model.get("state", ""), model.get("reason", "")
            return f" (state {state or 'unknown'}{': ' + why if why else ''})"
    return " (no such model in its repository)"


def _backend_of(config: Mapping[str, Any]) -> str:
    """The model's backend (``python``, ``vllm``, ``tensorrtllm``) or platform (``ensemble``, ...)."""
    body = config.get("config", config)
    backend, platform = str(body.get("backend", "") or ""), str(body.get("platform", "") or "")
    if backend:
        return f"backend {backend}"
    return f"platform {platform}" if platform else "backend unknown"


def _mismatch(address: EndpointAddress, where: str, violations: tuple[str, ...]) -> Readiness:
    return Readiness(
        reachable=True,
        code=ReadinessCode.MISMATCH,
        reason=f"model '{address.model_name}' on {where} does not fit the evaluation contract "
        f"(docs/triton-contract.md, convention {address.convention}): " + "; ".join(violations),
        violations=violations,
    )


async def _check_openai(address: EndpointAddress, timeout: float) -> Readiness:
    """An OpenAI-compatible server: HTTP, it answers ``GET /v1/models`` and lists the endpoint's model.

    Its stack is recorded in its own words: the ``Server`` header and the model's ``owned_by``.
    """
    scheme = "https" if address.ssl else "http"
    where = f"the server at {scheme}://{address.host_port}"
    problems = check_protocol(address.convention, address.protocol)
    if address.model_version:
        problems += (
            f"an OpenAI-compatible server names models without versions; the endpoint names version "
            f"'{address.model_version}': leave model_version empty",
        )
    if problems:
        return _mismatch(address, where, problems)
    try:
        async with httpx.AsyncClient(base_url=f"{scheme}://{address.host_port}", trust_env=False) as client:
            async with asyncio.timeout(timeout):
                response = await client.get(MODELS_PATH)
    except Exception as exc:
        reason = f"{where} did not answer GET {MODELS_PATH}: {exc!r}"
        return Readiness(reachable=False, code=ReadinessCode.UNREACHABLE, reason=reason)
    if response.status_code >= 500:
        reason = f"{where} answered GET {MODELS_PATH} with HTTP {response.status_code}"
        return Readiness(reachable=False, code=ReadinessCode.UNREACHABLE, reason=reason)
    if response.status_code in (401, 403):
        problem = (
            f"{where} asks for a credential (GET {MODELS_PATH} answered HTTP {response.status_code}); "
            "the gateway sends none: serve the model without an API key"
        )
        return _mismatch(address, where, (problem,))
    try:
        if response.status_code != 200:
            raise ValueError(f"GET {MODELS_PATH} answered HTTP {response.status_code}")
        models = served_models(response.json())
    except ValueError as exc:
        return _mismatch(address, where, (f"{exc}: an OpenAI-compatible server lists its models there",))
    listed = [model for model in models if model.id == address.model_name]
    if not listed:
        names = sorted(model.id for model in models)
        return _mismatch(
            address, where, (f"{where} serves models {names}; the endpoint names '{address.model_name}'",)
        )
    return Readiness(
        reachable=True, serving_stack=serving_stack(listed[0], response.headers.get("server"))[:200]
    )
