"""Items per second of a gateway run against a Triton model, against a hand-tuned asyncio tritonclient loop.

Both sides run in the same process, in the same run, against the same Triton server (CPU), with
the same prompts, the same decoding parameters and the same number of requests in flight. The
gateway side is the whole thing: a run requested over its REST API, the readiness check, the items
fetched and stored, chunks claimed, every item answered, every record stored in the database
(SQLite by default) with progress and completion events through the outbox to a real broker; the
time is the gateway's own, from the request to the commit of the last record. The baseline is the
loop one would write by hand: one ``tritonclient.grpc.aio`` client, a semaphore, ``gather``.

Two models, each its own scenario (rounds alternate baseline and gateway):

* ``generation`` (-> ``ratio``): ``demo-lm-batched``, Triton's dynamic batcher (batches of up to
  32) and a simulated generation time per batch (``--generation-ms``), 64 requests in flight so
  that a full batch always waits: the model is the bottleneck, as a GPU-served LLM is; the
  question is whether the gateway keeps it as busy.
* ``cpu-bound`` (-> ``ratio_cpu_bound``): ``demo-lm``, which answers in well under a millisecond of
  CPU, 8 in flight: on a small machine the client's own CPU per item decides, and the gateway's
  (scheduling, records, transactions) competes with Triton for the same cores.

A third scenario, ``streaming``, measures time to first token rather than throughput: the gateway's
``ModelClient`` streaming from ``vllm-lm`` (the vLLM-backend stand-in, decoupled, one response
per word) against a direct ``tritonclient.grpc.aio`` stream of the same request, one request at a
time, the two alternating item by item; it prints the median and p95 of both and their ratio.

Prints both rates per round, the medians, the ratios, and the gateway's added latency per item
(its request latencies minus the baseline's, p50 and p99); the last line is JSON with ``ratio``.
Two figures are less sensitive to a shared, noisy machine: ``ratio_paired`` (the median over rounds
of each gateway round against the loop's round just before it) and the process's CPU time per item
(every thread; the gateway's counted until its run completed), which shows the gateway's own cost.

    .venv/bin/python bench/gateway_throughput.py [--items 10000] [--rounds 3] [--generation-ms 20]
        [--scenarios generation,cpu-bound,streaming] [--stream-requests 500] [--poll-seconds 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.grpc.aio as grpc_aio

from fmc_common.auth import Role
from fmc_common.clock import SystemClock
from fmc_common.dev_auth import DevKeys, mint_token
from fmc_common.events.inference import DecodingParameters, GpuPool, InferenceProtocol, ServingConvention
from fmc_common.settings import KafkaSettings
from fmc_devrunner.broker import BrokerProcess
from fmc_devrunner.ports import free_port
from fmc_devrunner.triton import DEFAULT_MODEL_REPOSITORY, TritonProcess
from fmc_gateway.main import create_app
from fmc_gateway.settings import GatewaySettings
from fmc_gateway.triton.inference import EndpointAddress, ModelClient

MAX_TOKENS = 4
OUTPUTS = ("text", "prompt_tokens", "completion_tokens")


@dataclass(frozen=True)
class Scenario:
    name: str
    model: str
    batched: bool
    concurrency: int


@dataclass
class Figures:
    baseline: list[float]
    gateway: list[float]
    baseline_latencies: list[float]
    gateway_latencies: list[float]
    baseline_cpu: list[float] = field(default_factory=list)
    gateway_cpu: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        base, gateway = statistics.median(self.baseline), statistics.median(self.gateway)
        return {
            "baseline": base,
            "gateway": gateway,
            "ratio": gateway / base,
            # Each gateway round against the loop's round just before it: the load of the shared
            # machine drifts between rounds, less within a pair.
            "ratio_paired": statistics.median(
                g / b for b, g in zip(self.baseline, self.gateway, strict=True)
            ),
            # The process's CPU time per item (every thread), which the noise affects much less.
            "cpu_us_baseline": statistics.median(self.baseline_cpu),
            "cpu_us_gateway": statistics.median(self.gateway_cpu),
            "p50": percentile(self.gateway_latencies, 50) - percentile(self.baseline_latencies, 50),
            "p99": percentile(self.gateway_latencies, 99) - percentile(self.baseline_latencies, 99),
        }


def prompts(count: int) -> list[str]:
    return [f"Question: what follows {i} and {i + 1} in this sequence" for i in range(count)]


def write_items(directory: Path, count: int) -> Path:
    path = directory / f"items-{uuid.uuid4().hex[:6]}.jsonl"
    lines = [json.dumps({"item_id": f"item-{i:06d}", "prompt": p}) for i, p in enumerate(prompts(count))]
    path.write_text("\n".join(lines) + "\n")
    return path


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q)) if values else 0.0


def model_repository(root: Path, generation_ms: int) -> Path:
    """The demo repository's two models, with the batched one's generation time set for this run."""
    repository = root / "models"
    for name in ("demo-lm", "demo-lm-batched", "vllm-lm"):
        shutil.copytree(DEFAULT_MODEL_REPOSITORY / name, repository / name)
    config = repository / "demo-lm-batched" / "config.pbtxt"
    text = config.read_text()
    marker = 'key: "generation_ms"\n  value: { string_value: "'
    start = text.index(marker) + len(marker)
    config.write_text(text[:start] + str(generation_ms) + text[text.index('"', start) :])
    return repository


async def baseline(url: str, count: int, scenario: Scenario) -> tuple[float, list[float]]:
    """The hand-tuned loop: one client, a semaphore, every request in flight up to the concurrency."""
    client = grpc_aio.InferenceServerClient(url)
    outputs = [grpcclient.InferRequestedOutput(n) for n in OUTPUTS]
    shape = [1, 1] if scenario.batched else [1]
    latencies: list[float] = []
    semaphore = asyncio.Semaphore(scenario.concurrency)

    async def one(prompt: str) -> None:
        async with semaphore:
            text = grpcclient.InferInput("prompt", shape, "BYTES")
            text.set_data_from_numpy(np.array([prompt.encode()], dtype=np.object_).reshape(shape))
            limit = grpcclient.InferInput("max_tokens", shape, "INT32")
            limit.set_data_from_numpy(np.array([MAX_TOKENS], dtype=np.int32).reshape(shape))
            started = time.perf_counter()
            result = await client.infer(scenario.model, [text, limit], outputs=outputs, client_timeout=60)
            latencies.append((time.perf_counter() - started) * 1000)
            result.as_numpy("text")

    try:
        started = time.perf_counter()
        await asyncio.gather(*(one(p) for p in prompts(count)))
        return count / (time.perf_counter() - started), latencies
    finally:
        await client.close()


async def gateway_run(
    client: httpx.AsyncClient,
    token: str,
    triton_url: str,
    items: Path,
    count: int,
    model: str,
    poll_seconds: float = 1.0,
) -> tuple[float, list[float], float]:
    """Items per second, the request latencies, and the process's CPU seconds until completion.

    The run's status is polled every ``poll_seconds``: the polls are the bench's, yet they run on the
    gateway's event loop (in-process ASGI), each a few statements through the database driver, so
    they are kept sparse; the time measured is the gateway's own timestamps either way."""
    cpu_started = time.process_time()
    headers = {"Authorization": f"Bearer {token}"}
    body = {
        "run_id": str(uuid.uuid4()),
        "stage_id": str(uuid.uuid4()),
        "submission_id": str(uuid.uuid4()),
        "team_id": str(uuid.uuid4()),
        "endpoint": {"url": triton_url, "model_name": model, "protocol": "grpc", "gpu_pool": "H100"},
        "suite": {"suite_id": "bench", "version": "1", "content_hash": "0" * 64},
        "items": {"uri": items.as_uri(), "item_count": count},
        "decoding": {"max_tokens": MAX_TOKENS},
    }
    response = await client.post("/v1/runs", json=body, headers=headers)
    if response.is_error:
        raise RuntimeError(f"the gateway refused the run: {response.status_code} {response.text}")
    run_id = response.json()["id"]
    while (run := (await client.get(f"/v1/runs/{run_id}", headers=headers)).json())["status"] not in (
        "completed",
        "failed",
    ):
        await asyncio.sleep(poll_seconds)
    cpu = time.process_time() - cpu_started
    if run["status"] != "completed" or run["answered"] != count:
        raise RuntimeError(f"the gateway run did not complete: {run}")
    # The gateway's own timestamps, so that the polling interval above does not count.
    elapsed = (
        datetime.fromisoformat(run["finished_at"]) - datetime.fromisoformat(run["requested_at"])
    ).total_seconds()
    latencies: list[float] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1000} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(f"/v1/runs/{run_id}/responses", params=params, headers=headers)).json()
        latencies += [item["latency_ms"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return count / elapsed, latencies, cpu


async def run_scenario(
    scenario: Scenario, args: argparse.Namespace, root: Path, broker: str, triton_url: str
) -> Figures:
    auth = DevKeys.generate(["bench"]).settings()
    settings = GatewaySettings(
        database_url=args.database_url or f"sqlite+aiosqlite:///{root / f'{scenario.name}.db'}",
        kafka=KafkaSettings(bootstrap_servers=broker),
        auth=auth,
        grpc_port=free_port(),
        intake_enabled=False,
        items_directory=root,
        pool_capacity={GpuPool.H100: scenario.concurrency, GpuPool.B200: scenario.concurrency},
        endpoint_capacity=scenario.concurrency,
        triton_url=triton_url,
    )
    app = create_app(settings)
    token = mint_token(auth, subject="bench", role=Role.SERVICE, now=SystemClock().now())
    items = write_items(root, args.items)
    figures = Figures([], [], [], [])
    await baseline(triton_url, 200, scenario)  # warm up the model and its stub
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client,
    ):
        for round_no in range(1, args.rounds + 1):
            cpu = time.process_time()
            rate, latencies = await baseline(triton_url, args.items, scenario)
            figures.baseline_cpu.append((time.process_time() - cpu) / args.items * 1e6)
            figures.baseline.append(rate)
            figures.baseline_latencies += latencies
            rate, latencies, cpu = await gateway_run(
                client, token, triton_url, items, args.items, scenario.model, args.poll_seconds
            )
            figures.gateway_cpu.append(cpu / args.items * 1e6)
            figures.gateway.append(rate)
            figures.gateway_latencies += latencies
            print(
                f"{scenario.name} round {round_no}: hand-tuned loop {figures.baseline[-1]:,.0f} items/s, "
                f"gateway {rate:,.0f} items/s (ratio {rate / figures.baseline[-1]:.3f}); CPU per item "
                f"{figures.baseline_cpu[-1]:.0f} / {figures.gateway_cpu[-1]:.0f} µs"
            )
    return figures


VLLM_INPUTS = {
    "text_input": "BYTES",
    "stream": "BOOL",
    "sampling_parameters": "BYTES",
    "exclude_input_in_output": "BOOL",
    "return_num_input_tokens": "BOOL",
    "return_num_output_tokens": "BOOL",
}


async def direct_ttft(client: grpc_aio.InferenceServerClient, prompt: str) -> float:
    """Seconds to the first piece of a direct tritonclient stream (read to its last piece)."""
    values: dict[str, tuple[str, Any]] = {
        "text_input": ("BYTES", prompt.encode()),
        "stream": ("BOOL", True),
        "sampling_parameters": ("BYTES", json.dumps({"max_tokens": MAX_TOKENS}).encode()),
        "exclude_input_in_output": ("BOOL", True),
    }
    inputs = []
    for name, (datatype, value) in values.items():
        tensor = grpcclient.InferInput(name, [1], datatype)
        tensor.set_data_from_numpy(np.array([value], dtype=np.object_ if datatype == "BYTES" else np.bool_))
        inputs.append(tensor)
    done = asyncio.Event()

    async def requests() -> Any:
        yield {"model_name": "vllm-lm", "inputs": inputs}
        await done.wait()

    started = time.perf_counter()
    first: float | None = None
    responses = client.stream_infer(requests())
    try:
        for _ in range(MAX_TOKENS):  # the stand-in answers MAX_TOKENS words, one response each
            result, error = await anext(responses)
            if error is not None:
                raise error
            if first is None and result.as_numpy("text_output")[0]:
                first = time.perf_counter() - started
    finally:
        done.set()
        responses.cancel()
    assert first is not None
    return first


async def streaming(triton_url: str, requests: int) -> dict[str, float]:
    """Time to first token (ms): the gateway's ModelClient against a direct stream, alternating."""
    address = EndpointAddress(
        triton_url, InferenceProtocol.GRPC, "vllm-lm", "", ServingConvention.TRITON_VLLM
    )
    gateway = ModelClient(address, VLLM_INPUTS)
    direct = grpc_aio.InferenceServerClient(triton_url)
    decoding = DecodingParameters(max_tokens=MAX_TOKENS)
    ttft: dict[str, list[float]] = {"direct": [], "gateway": []}
    try:
        for number, prompt in enumerate(prompts(requests + 50)):
            base = await direct_ttft(direct, prompt)
            answer = await gateway.infer(prompt, decoding, 60)
            assert answer.ttft_seconds is not None
            assert answer.completion_tokens == MAX_TOKENS
            if number >= 50:  # the first ones warm the channels and the model's stub up
                ttft["direct"].append(base * 1000)
                ttft["gateway"].append(answer.ttft_seconds * 1000)
    finally:
        await gateway.close()
        await direct.close()
    figures = {
        f"{side}_{name}": percentile(values, q)
        for side, values in ttft.items()
        for name, q in (("p50", 50), ("p95", 95))
    }
    return figures | {"ratio_p50": figures["gateway_p50"] / figures["direct_p50"]}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--generation-ms", type=int, default=20, help="demo-lm-batched's time per batch")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--scenarios", default="generation,cpu-bound,streaming")
    parser.add_argument("--stream-requests", type=int, default=500, help="streaming: requests measured")
    parser.add_argument(
        "--poll-seconds", type=float, default=1.0, help="between the bench's polls of a run's status"
    )
    args = parser.parse_args()
    chosen = set(args.scenarios.split(","))
    scenarios = [
        scenario
        for scenario in (
            Scenario("generation", "demo-lm-batched", batched=True, concurrency=64),
            Scenario("cpu-bound", "demo-lm", batched=False, concurrency=8),
        )
        if scenario.name in chosen
    ]
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        broker = BrokerProcess(free_port(), root / "tansu.log")
        triton = TritonProcess(
            free_port(), free_port(), free_port(), model_repository(root, args.generation_ms)
        )
        broker.start()
        triton.start(root / "triton.log")
        try:
            await broker.wait_ready()
            await triton.wait_ready(timeout=120)
            for scenario in scenarios:
                figures = await run_scenario(scenario, args, root, broker.bootstrap, triton.grpc_url)
                results[scenario.name] = figures.summary()
            if "streaming" in chosen:
                stream = await streaming(triton.grpc_url, args.stream_requests)
        finally:
            triton.stop()
            broker.stop()
    backend = "postgresql" if args.database_url and "postgres" in args.database_url else "sqlite"
    for name, r in results.items():
        print(
            f"median {name}: hand-tuned loop {r['baseline']:,.0f} items/s; gateway ({backend}) "
            f"{r['gateway']:,.0f} items/s; ratio {r['ratio']:.3f} (paired rounds {r['ratio_paired']:.3f}); "
            f"added latency per item p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms; process CPU per item "
            f"{r['cpu_us_baseline']:.0f} µs loop, {r['cpu_us_gateway']:.0f} µs gateway"
        )
    summary: dict[str, Any] = {}
    if "generation" in results:
        generation = results["generation"]
        summary |= {
            "ratio": round(generation["ratio"], 3),
            "ratio_paired": round(generation["ratio_paired"], 3),
            "baseline_items_per_s": round(generation["baseline"]),
            "gateway_items_per_s": round(generation["gateway"]),
            "added_latency_ms_p50": round(generation["p50"], 3),
            "added_latency_ms_p99": round(generation["p99"], 3),
            "generation_ms": args.generation_ms,
        }
    if "cpu-bound" in results:
        cpu = results["cpu-bound"]
        summary |= {
            "ratio_cpu_bound": round(cpu["ratio"], 3),
            "ratio_cpu_bound_paired": round(cpu["ratio_paired"], 3),
            "cpu_bound_cpu_us_per_item": [round(cpu["cpu_us_baseline"]), round(cpu["cpu_us_gateway"])],
            "cpu_bound_baseline_items_per_s": round(cpu["baseline"]),
            "cpu_bound_gateway_items_per_s": round(cpu["gateway"]),
            "cpu_bound_added_latency_ms_p50": round(cpu["p50"], 3),
            "cpu_bound_added_latency_ms_p99": round(cpu["p99"], 3),
        }
    if "streaming" in chosen:
        print(
            f"streaming time to first token ({args.stream_requests} requests, one at a time): direct "
            f"tritonclient stream p50 {stream['direct_p50']:.2f} ms, p95 {stream['direct_p95']:.2f} ms; "
            f"gateway ModelClient p50 {stream['gateway_p50']:.2f} ms, p95 {stream['gateway_p95']:.2f} ms; "
            f"ratio (p50) {stream['ratio_p50']:.3f}"
        )
        summary |= {f"ttft_ms_{name}": round(value, 3) for name, value in stream.items()}
    print(json.dumps(summary | {"items": args.items, "backend": backend}))


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
