"""Talking to a Triton server through tritonclient's asyncio gRPC client. Its errors stop here."""

from __future__ import annotations

import asyncio
from typing import Any

from tritonclient.grpc import InferenceServerException
from tritonclient.grpc.aio import InferenceServerClient

from fmc_common.errors import Unavailable
from fmc_gateway.triton.schemas import TritonModel, TritonStatus


class TritonUnavailable(Unavailable):
    code = "triton-unavailable"
    title = "The Triton server did not answer"


async def server_status(url: str, timeout: float) -> TritonStatus:
    """Liveness, readiness, version and the model repository of the Triton server at ``url``."""
    client = InferenceServerClient(url=url)
    try:
        async with asyncio.timeout(timeout):
            live = bool(await client.is_server_live())
            ready = bool(await client.is_server_ready())
            metadata: dict[str, Any] = await client.get_server_metadata(as_json=True)
            index: dict[str, Any] = await client.get_model_repository_index(as_json=True)
    except (InferenceServerException, TimeoutError, OSError) as exc:
        raise TritonUnavailable(f"Triton at {url} did not answer: {exc}", triton_url=url) from exc
    finally:
        await client.close()
    return TritonStatus(
        url=url,
        live=live,
        ready=ready,
        server_version=str(metadata.get("version", "")),
        extensions=[str(e) for e in metadata.get("extensions", [])],
        models=[
            TritonModel(
                name=str(m.get("name", "")), version=str(m.get("version", "")), state=str(m.get("state", ""))
            )
            for m in index.get("models", [])
        ],
    )
