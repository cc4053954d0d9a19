"""Explicit model load and unload through Triton's repository API (servers in explicit control mode)."""

from __future__ import annotations

import asyncio

import aiohttp
import tritonclient.grpc.aio as grpc_aio
import tritonclient.http.aio as http_aio
from tritonclient.utils import InferenceServerException

from fmc_common.errors import Conflict
from fmc_common.events.inference import InferenceProtocol
from fmc_gateway.triton.client import TritonUnavailable
from fmc_gateway.triton.inference import GRPC_CHANNEL_ARGS, EndpointAddress


class ModelControlRefused(Conflict):
    code = "model-control-refused"
    title = "Triton refused to load or unload the model"


async def control_model(address: EndpointAddress, load: bool, timeout: float) -> None:
    """Load (or unload) ``address``'s model; Triton must run with ``--model-control-mode=explicit``."""
    client = (
        grpc_aio.InferenceServerClient(address.host_port, ssl=address.ssl, channel_args=GRPC_CHANNEL_ARGS)
        if address.protocol == InferenceProtocol.GRPC
        else http_aio.InferenceServerClient(address.host_port, ssl=address.ssl)
    )
    verb = "load" if load else "unload"
    try:
        async with asyncio.timeout(timeout):
            if load:
                await client.load_model(address.model_name)
            else:
                await client.unload_model(address.model_name)
    except InferenceServerException as exc:
        status = str(exc.status() or "")
        if status in ("StatusCode.UNAVAILABLE", "503") and "explicit" not in str(exc.message()):
            raise TritonUnavailable(f"Triton at {address.host_port} did not answer: {exc.message()}") from exc
        raise ModelControlRefused(
            f"Triton refused to {verb} '{address.model_name}': {exc.message()}"
        ) from exc
    except (TimeoutError, OSError, aiohttp.ClientError, ValueError) as exc:
        # aiohttp (HTTP protocol) raises its own errors, and a ValueError (UnicodeError included)
        # for an address it cannot even resolve, such as "0" or a host with invalid characters.
        raise TritonUnavailable(f"Triton at {address.host_port} did not answer: {exc!r}") from exc
    finally:
        await client.close()
