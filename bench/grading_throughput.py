"""Grading throughput of the kinds that do more than compare text, one function per scenario.

``executed`` (-> ``ratio_executed``): code items graded through the real grading function
(``grade_code_all``: code extracted from the answer, run against its hidden tests) with the
sandbox (bubblewrap, as tests and development run it) against the same code, the same tests and
the same concurrency run without it (a plain subprocess of the same program, the same limits set
on itself): executed items per second of each, rounds alternating the two, and the ratio of the
medians (target: at least 0.3). The items are small functions, half answered right, a quarter
wrong, a quarter without code, the mix a real suite sees.

``judged`` (-> ``ratio_judged``): judged items per second end to end against the gateway's raw
throughput for the judge model, in the same run (target: at least 0.8): the median of the rounds'
ratios (each round measures both back to back), and the ratio of the medians beside it. Everything
real and in one process: the Tansu broker, Triton on the CPU (demo-lm answering for the team,
judge-lm judging), the inference gateway with its intake on (it consumes the run requests from the
broker and fetches items from scoring over HTTP, as deployed), scoring served by uvicorn on a port
(SQLite files by default). *Judged*: a stage with one team and one judged suite of
``--judged-items`` items (single mode); the clock starts when the team's run completes (its
``completed_at``, the gateway's time) and stops when scoring graded it (``graded_at``): scoring
reading the answers, rendering and storing the judge prompts, the outbox, the gateway's intake, the
judge's run, scoring reading and parsing every judgement, storing them and grading. *Raw* (the
baseline): the gateway alone answering the same judge prompts (the judge items document scoring
stored, byte for byte) with judge-lm and the same decoding, requested over its REST API; its own
times, from the request to the last record. Each round prints where the judged time went.

Each scenario prints its rounds and medians; the last line is JSON with every scenario's figures.

    .venv/bin/python bench/grading_throughput.py [--scenarios executed,judged] [--rounds 3]
        [--items 200] [--concurrency 2] [--judged-items 2000]
        [--gateway-database-url URL] [--scoring-database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from fmc_common.auth import Role
from fmc_common.clock import SystemClock
from fmc_common.dev_auth import DevKeys, mint_token
from fmc_common.events.envelope import encode_envelope, new_event_id
from fmc_common.events.registry import EvaluationStarted, FrozenSubmission, TritonEndpoint
from fmc_common.settings import AuthSettings, KafkaSettings
from fmc_devrunner.broker import BrokerProcess
from fmc_devrunner.polling import eventually
from fmc_devrunner.ports import free_port
from fmc_devrunner.triton import DEFAULT_MODEL_REPOSITORY, TritonProcess
from fmc_gateway.main import create_app as create_gateway
from fmc_gateway.settings import GatewaySettings
from fmc_scoring.grading.execution.grade import grade_code_all
from fmc_scoring.grading.execution.runner import Executor
from fmc_scoring.grading.execution.sandbox import Limits, Runtime
from fmc_scoring.grading.models import RunGrade
from fmc_scoring.judging.models import JudgeRun
from fmc_scoring.main import create_app as create_scoring
from fmc_scoring.planning import repository as planning
from fmc_scoring.planning.models import PlannedRun
from fmc_scoring.settings import ScoringSettings
from fmc_scoring.values import AnswerKey, GradableItem, ItemKind

Scenario = Callable[[argparse.Namespace], Awaitable[dict[str, Any]]]

RIGHT = "Here it is:\n```python\ndef scale(xs, k):\n    return [x * k for x in xs]\n```"
WRONG = "```python\ndef scale(xs, k):\n    return [x + k for x in xs]\n```"
PROSE = "Multiply each element by k."
TESTS = "assert scale([1, 2, 3], {k}) == [{a}, {b}, {c}]\nassert candidate([], 5) == []\n"


def code_items(count: int) -> tuple[list[GradableItem], dict[str, str | None]]:
    items: list[GradableItem] = []
    answers: dict[str, str | None] = {}
    for n in range(count):
        k = n % 7 + 2
        tests = TESTS.format(k=k, a=k, b=2 * k, c=3 * k)
        item_id = f"scale-{n:05d}"
        items.append(GradableItem(item_id, AnswerKey(ItemKind.CODE, tests=tests, entry_point="scale")))
        answers[item_id] = (RIGHT, RIGHT, WRONG, PROSE)[n % 4]
    return items, answers


async def _rate(executor: Executor, items: list[GradableItem], answers: dict[str, str | None]) -> float:
    started = time.perf_counter()
    grades = await grade_code_all(items, answers, executor)
    elapsed = time.perf_counter() - started
    assert sum(g.correct for g in grades) == sum(1 for n in range(len(items)) if n % 4 < 2)
    return len(items) / elapsed


async def executed(args: argparse.Namespace) -> dict[str, Any]:
    """Executed items per second, sandboxed against plain, in the same run."""
    items, answers = code_items(args.items)
    limits = Limits()
    sandboxed = Executor(Runtime(), limits, args.concurrency, sandboxed=True, run_as=65534)
    plain = Executor(Runtime(), limits, args.concurrency, sandboxed=False)
    rates: dict[str, list[float]] = {"sandbox": [], "plain": []}
    for round_number in range(1, args.rounds + 1):
        for name, executor in (("plain", plain), ("sandbox", sandboxed)):
            rates[name].append(await _rate(executor, items, answers))
        print(
            f"executed round {round_number}: plain {rates['plain'][-1]:.1f} items/s, "
            f"sandbox {rates['sandbox'][-1]:.1f} items/s"
        )
    plain_median, sandbox_median = statistics.median(rates["plain"]), statistics.median(rates["sandbox"])
    ratio = sandbox_median / plain_median
    print(f"executed: plain {plain_median:.1f}/s, sandbox {sandbox_median:.1f}/s, ratio {ratio:.2f}")
    return {
        "executed_items": args.items,
        "executed_concurrency": args.concurrency,
        "executed_plain_per_s": round(plain_median, 1),
        "executed_sandbox_per_s": round(sandbox_median, 1),
        "ratio_executed": round(ratio, 3),
    }


JUDGE_MAX_TOKENS = 16


@dataclass
class World:
    scoring: httpx.AsyncClient
    gateway: httpx.AsyncClient
    scoring_app: Any
    auth: AuthSettings
    triton_url: str
    bootstrap: str
    root: Path

    def headers(self, role: Role = Role.OPERATOR) -> dict[str, str]:
        token = mint_token(self.auth, subject="bench", role=role, now=SystemClock().now())
        return {"Authorization": f"Bearer {token}"}


async def publish(bootstrap: str, event: EvaluationStarted) -> None:
    from aiokafka import AIOKafkaProducer

    value = encode_envelope(
        event,
        event_id=new_event_id(),
        source="/fmc/bench",
        time=datetime.now(UTC),
        correlation_id=None,
        causation_id=None,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        await producer.send_and_wait(str(event.topic), value, key=event.partition_key().encode())
    finally:
        await producer.stop()


def model_repository(root: Path) -> Path:
    repository = root / "models"
    for name in ("demo-lm", "judge-lm"):
        shutil.copytree(DEFAULT_MODEL_REPOSITORY / name, repository / name)
    return repository


async def ok(response: httpx.Response, status: int = 200) -> Any:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
        )
    return response.json()


async def judged_suite(world: World, count: int) -> str:
    items = [
        {
            "item_id": f"q{i:06d}",
            "prompt": f"Question: item {i} says the capital of Korea is {'Seoul' if i % 2 else 'Busan'}",
            "answer": "Seoul",
        }
        for i in range(count)
    ]
    suite = await ok(
        await world.scoring.post(
            "/v1/suites",
            json={
                "key": f"bench-judged-{uuid.uuid4().hex[:8]}",
                "version": "1",
                "title": "Bench judged",
                "language": "en",
                "kind": "judged",
                "items": items,
            },
            headers=world.headers(),
        ),
        201,
    )
    endpoint = {"url": world.triton_url, "model_name": "judge-lm", "model_version": "1", "gpu_pool": "H100"}
    judge = {"mode": "single", "endpoint": endpoint, "max_tokens": JUDGE_MAX_TOKENS}
    await ok(await world.scoring.put(f"/v1/suites/{suite['id']}/judge", json=judge, headers=world.headers()))
    return str(suite["id"])


async def judged_round(world: World, count: int) -> tuple[float, uuid.UUID]:
    """Judged items per second of one team's run, and the judge run it took."""
    suite_id = await judged_suite(world, count)
    stage_id, team_id = uuid.uuid4(), uuid.uuid4()
    criteria = {
        "suites": [{"suite_id": suite_id, "weight": 1.0}],
        "part_weights": {"benchmark": 0.5, "expert": 0.3, "user": 0.2},
        "advancing": 1,
        "tie_break": ["benchmark", "expert", "user"],
        "decoding": {"max_tokens": 16},
    }
    await ok(
        await world.scoring.put(f"/v1/stages/{stage_id}/criteria", json=criteria, headers=world.headers())
    )
    endpoint = TritonEndpoint(
        url=world.triton_url, model_name="demo-lm", model_version="", protocol="grpc", gpu_pool="H100"
    )
    submission = FrozenSubmission(
        submission_id=uuid.uuid4(),
        team_id=team_id,
        version=1,
        endpoint=endpoint,
        manifest_digest="sha256:" + "ab" * 32,
    )
    await publish(
        world.bootstrap,
        EvaluationStarted(
            stage_id=stage_id,
            programme_id=uuid.uuid4(),
            stage_number=1,
            started_at=datetime.now(UTC),
            submissions=[submission],
            objection_days=10,
        ),
    )
    sessions = world.scoring_app.state.runtime.sessions
    run_id: uuid.UUID | None = None

    async def graded() -> tuple[float, uuid.UUID] | None:
        nonlocal run_id
        async with sessions() as session:
            if run_id is None:
                runs = await planning.runs_of_stage(session, stage_id)
                run_id = runs[0].id if runs else None
            grade = await session.get(RunGrade, run_id) if run_id is not None else None
            if grade is not None:
                run = await session.get(PlannedRun, run_id)
                assert run is not None
                assert run.completed_at is not None
                judge_runs = list(await session.scalars(_judge_runs(run.id)))
                seconds = (grade.graded_at - run.completed_at).total_seconds()
                await breakdown(world, run.completed_at, judge_runs[0], grade.graded_at)
                return count / seconds, judge_runs[0].id
            found = run_id is not None and (run := await session.get(PlannedRun, run_id)) is not None
            if found and run.status == "failed":
                raise RuntimeError(f"the team's run failed: {run.failure_code} {run.failure_reason}")
        return None

    # A light poll (one row by key every 0.1 s): the bench shares the event loop with what it measures.
    return await eventually(graded, timeout=600, what="the judged run graded")


async def breakdown(world: World, completed: datetime, judge_run: JudgeRun, graded: datetime) -> None:
    """Where the judged time went: scoring before the judge run is requested; the hand-over (outbox,
    broker, the gateway's intake); the gateway fetching the judge items from scoring; the judge's
    answers; scoring after the judge's run (reading, parsing and storing the judgements, grading)."""
    run = await ok(await world.gateway.get(f"/v1/runs/{judge_run.id}", headers=world.headers(Role.SERVICE)))
    accepted = datetime.fromisoformat(run["accepted_at"])
    prepared = datetime.fromisoformat(run["prepared_at"])
    finished = datetime.fromisoformat(run["finished_at"])
    parts = {
        "scoring before": (judge_run.requested_at - completed).total_seconds(),
        "hand-over": (accepted - judge_run.requested_at).total_seconds(),
        "items": (prepared - accepted).total_seconds(),
        "judge answering": (finished - prepared).total_seconds(),
        "scoring after": (graded - finished).total_seconds(),
    }
    print("  " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in parts.items()), flush=True)


def _judge_runs(team_run_id: uuid.UUID) -> Any:
    from sqlalchemy import select

    return select(JudgeRun).where(JudgeRun.team_run_id == team_run_id).order_by(JudgeRun.attempt)


async def finished_run(gateway: httpx.AsyncClient, run_id: str, headers: dict[str, str]) -> Any:
    """The gateway's run once it completed or failed; None while it runs."""
    run = await ok(await gateway.get(f"/v1/runs/{run_id}", headers=headers))
    return run if run["status"] in ("completed", "failed") else None


async def raw_round(world: World, judge_run_id: uuid.UUID, count: int) -> float:
    """The gateway alone on the judge prompts of that judge run: items per second, its own times."""
    async with world.scoring_app.state.runtime.sessions() as session:
        judge_run = await session.get(JudgeRun, judge_run_id)
        assert judge_run is not None
        document = judge_run.document.encode()
    path = world.root / f"judge-{judge_run_id}.jsonl"
    path.write_bytes(document)
    body = {
        "run_id": str(uuid.uuid4()),
        "stage_id": str(uuid.uuid4()),
        "submission_id": str(uuid.uuid4()),
        "team_id": str(uuid.uuid4()),
        "endpoint": {
            "url": world.triton_url,
            "model_name": "judge-lm",
            "model_version": "1",
            "gpu_pool": "H100",
        },
        "suite": {"suite_id": "bench-raw", "version": "1", "content_hash": "0" * 64},
        "items": {"uri": path.as_uri(), "item_count": count},
        "decoding": {"max_tokens": JUDGE_MAX_TOKENS},
    }
    headers = world.headers(Role.SERVICE)
    run_id = (await ok(await world.gateway.post("/v1/runs", json=body, headers=headers), 201))["id"]
    run = await eventually(
        lambda: finished_run(world.gateway, run_id, headers), timeout=600, what="the raw run"
    )
    if run["status"] != "completed":
        raise RuntimeError(f"the raw judge run failed: {run}")
    seconds = (
        datetime.fromisoformat(run["finished_at"]) - datetime.fromisoformat(run["requested_at"])
    ).total_seconds()
    return count / seconds


@asynccontextmanager
async def services(
    args: argparse.Namespace, root: Path, bootstrap: str, triton: TritonProcess
) -> AsyncIterator[World]:
    auth = DevKeys.generate(["bench"]).settings()
    kafka = KafkaSettings(bootstrap_servers=bootstrap)
    port = free_port()
    gateway_app = create_gateway(
        GatewaySettings(
            database_url=args.gateway_database_url or f"sqlite+aiosqlite:///{root / 'gateway.db'}",
            kafka=kafka,
            auth=auth,
            grpc_port=free_port(),
            intake_enabled=True,
            items_directory=root,
            items_allowed_urls=[f"http://127.0.0.1:{port}/v1/runs/"],
            triton_url=triton.grpc_url,
            triton_allowed_hosts=[triton.grpc_url],
            claim_interval_seconds=0.05,
            record_flush_seconds=0.05,
        )
    )
    scoring_app = create_scoring(
        ScoringSettings(
            database_url=args.scoring_database_url or f"sqlite+aiosqlite:///{root / 'scoring.db'}",
            kafka=kafka,
            auth=auth,
            grpc_port=free_port(),
            relay_poll_interval_seconds=0.05,
            suites_directory=root,
            gateway_url="http://gateway",
            items_base_url=f"http://127.0.0.1:{port}",
        ),
        gateway_transport=httpx.ASGITransport(app=gateway_app),
    )
    server = uvicorn.Server(uvicorn.Config(scoring_app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                serving.result()
            await asyncio.sleep(0.05)
        async with (
            gateway_app.router.lifespan_context(gateway_app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=gateway_app), base_url="http://gateway"
            ) as gw,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as sc,
        ):
            yield World(sc, gw, scoring_app, auth, triton.grpc_url, bootstrap, root)
    finally:
        server.should_exit = True
        await serving


async def judged(args: argparse.Namespace) -> dict[str, Any]:
    """Judged items per second end to end against the gateway's raw throughput on the same prompts."""
    rates: dict[str, list[float]] = {"judged": [], "raw": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        broker = BrokerProcess(free_port(), root / "tansu.log")
        triton = TritonProcess(free_port(), free_port(), free_port(), model_repository(root))
        broker.start()
        triton.start(root / "triton.log")
        try:
            await broker.wait_ready()
            await triton.wait_ready(timeout=120)
            async with services(args, root, broker.bootstrap, triton) as world:
                await judged_round(world, 100)  # warm up: consumer groups, models, connections
                for round_number in range(1, args.rounds + 1):
                    rate, judge_run_id = await judged_round(world, args.judged_items)
                    rates["judged"].append(rate)
                    rates["raw"].append(await raw_round(world, judge_run_id, args.judged_items))
                    judged_rate, raw_rate = rates["judged"][-1], rates["raw"][-1]
                    print(
                        f"judged round {round_number}: judged {judged_rate:,.0f} items/s, gateway raw "
                        f"{raw_rate:,.0f} items/s (ratio {judged_rate / raw_rate:.3f})",
                        flush=True,
                    )
        finally:
            triton.stop()
            broker.stop()
    judged_median, raw_median = statistics.median(rates["judged"]), statistics.median(rates["raw"])
    # Each round's two figures are measured back to back: their ratio is what the machine's load
    # (shared, varying between rounds) disturbs least; the ratio of the medians is printed beside it.
    paired = statistics.median(j / r for j, r in zip(rates["judged"], rates["raw"], strict=True))
    print(
        f"judged: {judged_median:,.0f} items/s end to end; gateway raw {raw_median:,.0f} items/s on the "
        f"same judge prompts; ratio {paired:.3f} (median of the rounds' ratios; target 0.8), "
        f"{judged_median / raw_median:.3f} (ratio of the medians)"
    )
    return {
        "judged_items": args.judged_items,
        "judged_per_s": round(judged_median),
        "judged_raw_per_s": round(raw_median),
        "ratio_judged": round(paired, 3),
        "ratio_judged_of_medians": round(judged_median / raw_median, 3),
    }


SCENARIOS: dict[str, Scenario] = {"executed": executed, "judged": judged}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--judged-items", type=int, default=2000)
    parser.add_argument("--gateway-database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--scoring-database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    chosen = [name for name in args.scenarios.split(",") if name]
    unknown = sorted(set(chosen) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenarios {unknown}; known: {sorted(SCENARIOS)}")
    figures: dict[str, Any] = {}
    for name in chosen:
        figures |= await SCENARIOS[name](args)
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
