"""A real tritonserver (CPU, from the nvidia-pytriton wheel) serving the dev runner's demo-lm model."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.grpc.aio as grpcclient_aio
from tritonclient.utils import InferenceServerException

from fmc_devrunner.ports import free_ports
from fmc_devrunner.triton import SHM_DIR, TritonProcess, live_group_members, prepare_backend_directory

pytestmark = pytest.mark.triton

MODEL = "demo-lm"
MC_PROMPT = (
    "Question: Which planet is known as the Red Planet?\nA. Venus\nB. Mars\nC. Jupiter\nD. Saturn\nAnswer:"
)


def _assert_stopped(server: TritonProcess, pid: int) -> None:
    assert not server.is_running()
    assert server.returncode is not None
    assert not Path(f"/proc/{pid}").exists(), "tritonserver process still exists"
    assert not live_group_members(pid), "processes (python backend stubs) left in the server's group"
    assert not list(SHM_DIR.glob(f"{server.shm_region_prefix}*")), "shared-memory regions left behind"


@pytest.fixture(scope="module")
def backend_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_backend_directory(cache_root=tmp_path_factory.mktemp("triton-cache"))


@pytest.fixture(scope="module")
async def triton(backend_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TritonProcess]:
    http_port, grpc_port, metrics_port = free_ports(3)
    server = TritonProcess(http_port, grpc_port, metrics_port, backend_dir=backend_dir)
    server.start(tmp_path_factory.mktemp("triton-log") / "tritonserver.log")
    pid = server.pid
    assert pid is not None
    try:
        await server.wait_ready(timeout=60)
        yield server
    finally:
        assert server.stop() is not None
        _assert_stopped(server, pid)


@pytest.fixture
async def client(triton: TritonProcess) -> AsyncIterator[Any]:
    client = grpcclient_aio.InferenceServerClient(url=triton.grpc_url)
    try:
        yield client
    finally:
        await client.close()


async def _infer(client: Any, prompt: str, max_tokens: int | None = None) -> tuple[str, int, int]:
    inputs = [grpcclient.InferInput("prompt", [1], "BYTES")]
    inputs[0].set_data_from_numpy(np.array([prompt.encode("utf-8")], dtype=np.object_))
    if max_tokens is not None:
        inputs.append(grpcclient.InferInput("max_tokens", [1], "INT32"))
        inputs[1].set_data_from_numpy(np.array([max_tokens], dtype=np.int32))
    outputs = [
        grpcclient.InferRequestedOutput(name) for name in ("text", "prompt_tokens", "completion_tokens")
    ]
    result = await client.infer(MODEL, inputs, outputs=outputs)
    text = result.as_numpy("text")
    prompt_tokens = result.as_numpy("prompt_tokens")
    completion_tokens = result.as_numpy("completion_tokens")
    assert text.shape == prompt_tokens.shape == completion_tokens.shape == (1,)
    assert prompt_tokens.dtype == completion_tokens.dtype == np.int32
    return text[0].decode("utf-8"), int(prompt_tokens[0]), int(completion_tokens[0])


async def test_server_live_and_model_ready(client: Any) -> None:
    assert await client.is_server_live()
    assert await client.is_server_ready()
    assert await client.is_model_ready(MODEL)


async def test_model_metadata_matches_contract(client: Any) -> None:
    metadata = await client.get_model_metadata(MODEL, as_json=True)
    assert metadata["platform"] == "python"
    assert metadata["versions"] == ["1"]
    assert {t["name"]: (t["datatype"], t["shape"]) for t in metadata["inputs"]} == {
        "prompt": ("BYTES", ["1"]),
        "max_tokens": ("INT32", ["1"]),
    }
    assert {t["name"]: (t["datatype"], t["shape"]) for t in metadata["outputs"]} == {
        "text": ("BYTES", ["1"]),
        "prompt_tokens": ("INT32", ["1"]),
        "completion_tokens": ("INT32", ["1"]),
    }
    config = (await client.get_model_config(MODEL, as_json=True))["config"]
    assert config.get("max_batch_size", 0) == 0
    optional = {t["name"]: t.get("optional", False) for t in config["input"]}
    assert optional == {"prompt": False, "max_tokens": True}


async def test_multiple_choice_answer_is_a_deterministic_letter(client: Any) -> None:
    first = await _infer(client, MC_PROMPT)
    second = await _infer(client, MC_PROMPT)
    assert first == second
    text, prompt_tokens, completion_tokens = first
    assert text in {"A", "B", "C", "D"}
    assert prompt_tokens == len(MC_PROMPT.split())
    assert completion_tokens == 1


async def test_free_text_prompt_is_truncated_to_max_tokens(client: Any) -> None:
    prompt = "Some context here. Question: why is the sky blue on a clear summer day at noon"
    assert await _infer(client, prompt, max_tokens=4) == ("why is the sky", len(prompt.split()), 4)
    text, _, completion_tokens = await _infer(client, prompt)  # default_max_tokens = 8
    assert text == "why is the sky blue on a clear"
    assert completion_tokens == 8


async def test_invalid_max_tokens_is_rejected(client: Any) -> None:
    with pytest.raises(InferenceServerException, match="max_tokens"):
        await _infer(client, MC_PROMPT, max_tokens=0)


async def test_metrics_endpoint_serves_model_counters(triton: TritonProcess, client: Any) -> None:
    await _infer(client, MC_PROMPT)
    async with httpx.AsyncClient(trust_env=False) as http:
        response = await http.get(triton.metrics_url)
    assert response.status_code == 200
    assert f'nv_inference_request_success{{model="{MODEL}",version="1"}}' in response.text


@pytest.fixture
def broken_repository(tmp_path: Path) -> Path:
    model_dir = tmp_path / "repo" / "broken"
    (model_dir / "1").mkdir(parents=True)
    (model_dir / "config.pbtxt").write_text(
        'name: "broken"\nbackend: "python"\nmax_batch_size: 0\n'
        'input [{ name: "x", data_type: TYPE_INT32, dims: [1] }]\n'
        'output [{ name: "y", data_type: TYPE_INT32, dims: [1] }]\n'
        "instance_group [{ kind: KIND_CPU }]\n"
    )
    (model_dir / "1" / "model.py").write_text("raise ImportError('deliberately broken demo model')\n")
    return tmp_path / "repo"


async def test_startup_failure_raises_with_log_tail(
    broken_repository: Path, backend_dir: Path, tmp_path: Path
) -> None:
    http_port, grpc_port, metrics_port = free_ports(3)
    server = TritonProcess(http_port, grpc_port, metrics_port, broken_repository, backend_dir=backend_dir)
    server.start(tmp_path / "tritonserver.log")
    pid = server.pid
    assert pid is not None
    try:
        with pytest.raises(RuntimeError, match="exited with code") as excinfo:
            await server.wait_ready(timeout=60)
        assert "deliberately broken demo model" in str(excinfo.value)
    finally:
        server.stop()
    _assert_stopped(server, pid)
    assert server.stop() == server.returncode  # idempotent


async def test_stop_escalates_to_sigkill(backend_dir: Path, tmp_path: Path) -> None:
    http_port, grpc_port, metrics_port = free_ports(3)
    server = TritonProcess(http_port, grpc_port, metrics_port, backend_dir=backend_dir, load_models=[MODEL])
    server.start(tmp_path / "tritonserver.log")
    pid = server.pid
    assert pid is not None
    try:
        await server.wait_ready(timeout=60)
        os.kill(pid, signal.SIGSTOP)  # a stopped process cannot act on SIGTERM
        assert server.stop(timeout=0.5) == -signal.SIGKILL
    finally:
        server.stop()
    _assert_stopped(server, pid)
