"""A real OpenAI-compatible server on the CPU: llama-cpp-python's, serving a tiny GGUF model written here.

The model is a llama-architecture network small enough to write in a test (``n_embd`` 64, 2 layers,
4 heads, context 256) with a SentencePiece-style ("llama") vocabulary: ``<unk>``, ``<s>``, ``</s>``,
the 256 byte tokens ``<0x00>``..``<0xFF>`` (any text tokenises through them) and a few merged
pieces. Its metadata carries a ChatML-like ``tokenizer.chat_template``, so the server renders the
request's messages with the model's own template, as with a real chat model.

The weights are random except where the answer is made predictable: every token embeds to the same
vector and the attention and feed-forward blocks add nothing to the residual stream, so the last
hidden state is the same whatever the prompt, and the output projection gives ``ANSWER_PIECE`` the
highest logit. Greedy decoding therefore answers ``ANSWER_PIECE`` on every step: the tests can check
the text a real server streamed, piece by piece, without guessing.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
from gguf import GGUFWriter, TokenType

from fmc_devrunner.ports import free_port

N_EMBD = 64
N_LAYERS = 2
N_HEADS = 4
N_FF = 128
N_CTX = 256
MODEL_ALIAS = "fmc-tiny-chat"
ANSWER_PIECE = "\u2581hi"
"""The piece the model answers on every step (``▁`` is SentencePiece's space): the text is " hi" x n."""
PIECES = ("\u2581", "h", "i", "hi", ANSWER_PIECE, "\u2581the")
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def _vocabulary() -> tuple[list[str], list[float], list[int]]:
    tokens = ["<unk>", "<s>", "</s>"]
    types = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL]
    tokens += [f"<0x{byte:02X}>" for byte in range(256)]
    types += [TokenType.BYTE] * 256
    tokens += list(PIECES)
    types += [TokenType.NORMAL] * len(PIECES)
    # SentencePiece merges the pair whose result scores highest first: longer pieces score higher.
    scores = [0.0] * (3 + 256) + [-10.0 + len(piece) for piece in PIECES]
    return tokens, scores, [int(kind) for kind in types]


def write_tiny_model(path: Path, seed: int = 17) -> Path:
    """Write the GGUF file (about 0.3 MB) and return its path."""
    tokens, scores, types = _vocabulary()
    vocab = len(tokens)
    rng = np.random.default_rng(seed)
    writer = GGUFWriter(path, "llama")
    writer.add_context_length(N_CTX)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYERS)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEADS)
    writer.add_head_count_kv(N_HEADS)
    writer.add_rope_dimension_count(N_EMBD // N_HEADS)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(0)  # all F32
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)
    writer.add_chat_template(CHAT_TEMPLATE)

    def random(*shape: int) -> np.ndarray:  # type: ignore[type-arg]
        return rng.normal(0.0, 0.02, size=shape).astype(np.float32)

    writer.add_tensor("token_embd.weight", np.ones((vocab, N_EMBD), dtype=np.float32))
    for layer in range(N_LAYERS):
        block = f"blk.{layer}"
        writer.add_tensor(f"{block}.attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        for name in ("attn_q", "attn_k", "attn_v"):
            writer.add_tensor(f"{block}.{name}.weight", random(N_EMBD, N_EMBD))
        # Nothing added to the residual stream: the answer does not depend on the prompt.
        writer.add_tensor(f"{block}.attn_output.weight", np.zeros((N_EMBD, N_EMBD), dtype=np.float32))
        writer.add_tensor(f"{block}.ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        writer.add_tensor(f"{block}.ffn_gate.weight", random(N_FF, N_EMBD))
        writer.add_tensor(f"{block}.ffn_up.weight", random(N_FF, N_EMBD))
        writer.add_tensor(f"{block}.ffn_down.weight", np.zeros((N_EMBD, N_FF), dtype=np.float32))
    writer.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    output = random(vocab, N_EMBD)
    output[tokens.index(ANSWER_PIECE)] = 1.0  # logit N_EMBD against about +-0.2 for the others
    writer.add_tensor("output.weight", output)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@dataclass(frozen=True)
class LlamaServer:
    url: str
    """``http://127.0.0.1:port``"""
    model: str
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def host_port(self) -> str:
        return self.url.removeprefix("http://")

    def kill(self) -> None:
        """SIGKILL, as a crash: connections refused from now on."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


def _start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


async def _wait_until_serving(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float, api_key: str | None
) -> None:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    async with httpx.AsyncClient(base_url=url, headers=headers) as client:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited ({process.returncode}): {_tail(log)}")
            try:
                if (await client.get("/v1/models")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"llama_cpp.server did not answer in {timeout}s: {_tail(log)}")


@asynccontextmanager
async def llama_server(
    directory: Path, port: int | None = None, api_key: str | None = None, timeout: float = 60.0
) -> AsyncIterator[LlamaServer]:
    """Write the tiny model in ``directory``, serve it with ``python -m llama_cpp.server`` (on ``port``,
    or a free one; asking for ``api_key`` when given), stop it after."""
    model = write_tiny_model(directory / "tiny-chat.gguf")
    port = port or free_port()
    log = directory / f"llama-server-{port}-{uuid.uuid4().hex[:6]}.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--model_alias",
        MODEL_ALIAS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(N_CTX),
        "--n_threads",
        "1",
        # By default a waiting request cuts the stream being served short (an empty answer ending
        # in [DONE]); a gateway sends many at once: each is answered in full, one after the other.
        "--interrupt_requests",
        "False",
        *(["--api_key", api_key] if api_key else []),
    ]
    process = _start(command, log)
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_until_serving(url, process, log, timeout, api_key)
        yield LlamaServer(url=url, model=MODEL_ALIAS, log=log, process=process)
    finally:
        _stop(process)
