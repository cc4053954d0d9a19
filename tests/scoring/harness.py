"""Scoring under test (its real lifespan: migrations, broker, relay, consumers, gRPC), and factories
that put a stage's evidence in place: planned runs graded from synthetic responses, expert scores,
arena votes, originality checks, participants. Each test makes its own stage, so none share data."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from fastapi import FastAPI

from fmc_common.auth import Role
from fmc_common.db import transaction
from fmc_common.events.base import Event
from fmc_common.events.envelope import encode_envelope, new_event_id
from fmc_common.events.registry import EvaluationStarted, FrozenSubmission, TritonEndpoint
from fmc_common.events.topics import Topic
from fmc_common.events.vocabulary import Verdict
from fmc_common.runtime import ServiceRuntime
from fmc_common.settings import AuthSettings
from fmc_common.web.context import context_for, service_actor
from fmc_scoring.arena.models import Battle, Vote
from fmc_scoring.deps import ScoringCtx
from fmc_scoring.experts.models import ExpertScore
from fmc_scoring.grading import service as grading
from fmc_scoring.originality.models import CheckStatus, OriginalityCheck
from fmc_scoring.participants.models import Participant
from fmc_scoring.planning import repository as planning
from fmc_scoring.settings import ScoringSettings
from fmc_scoring.suites import service as suites
from support.eventually import eventually
from support.kafka import produce_raw
from support.services import bearer

T = TypeVar("T")


@dataclass
class Scoring:
    client: httpx.AsyncClient
    app: FastAPI
    auth: AuthSettings
    grpc_port: int
    bootstrap: str
    gateway: httpx.AsyncClient
    items: Path

    @property
    def runtime(self) -> ServiceRuntime:
        runtime: ServiceRuntime = self.app.state.runtime
        return runtime

    def operator(self) -> dict[str, str]:
        return bearer(self.auth, Role.OPERATOR, subject="operator-kim")

    def service(self) -> dict[str, str]:
        return bearer(self.auth, Role.SERVICE, subject="service:inference-gateway")

    def as_team(self, team_id: uuid.UUID) -> dict[str, str]:
        return bearer(self.auth, Role.TEAM, team_id, subject=f"team-{team_id}")

    def as_evaluator(self, subject: str) -> dict[str, str]:
        return bearer(self.auth, Role.EVALUATOR, subject=subject)

    @asynccontextmanager
    async def ctx(self) -> AsyncIterator[ScoringCtx]:
        async with transaction(self.runtime.sessions) as session:
            yield context_for(self.runtime, session, service_actor("test"), ScoringSettings)
        self.runtime.after_commit()


async def body(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def publish(bootstrap: str, event: Event) -> None:
    """An event as another service's relay would send it."""
    value = encode_envelope(
        event,
        event_id=new_event_id(),
        source="/fmc/test",
        time=datetime.now(UTC),
        correlation_id=None,
        causation_id=None,
    )
    await produce_raw(bootstrap, str(event.topic), [value], key=event.partition_key().encode())


@dataclass
class StageWorld:
    """A stage with its teams (names, submissions) and the demo suites it uses."""

    stage_id: uuid.UUID
    programme_id: uuid.UUID
    teams: dict[str, uuid.UUID]
    submissions: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    suite_ids: list[uuid.UUID] = field(default_factory=list)


async def demo_suites(scoring: Scoring) -> dict[str, dict[str, Any]]:
    installed = await body(await scoring.client.post("/v1/suites/demo", headers=scoring.operator()))
    return {suite["key"]: suite for suite in installed}


async def new_stage(scoring: Scoring, names: list[str]) -> StageWorld:
    world = StageWorld(uuid.uuid4(), uuid.uuid4(), {name: uuid.uuid4() for name in names})
    async with scoring.ctx() as ctx:
        for name, team_id in world.teams.items():
            ctx.session.add(
                Participant(
                    team_id=team_id, name=name, lead_organisation=f"{name} Corp", recorded_at=ctx.clock.now()
                )
            )
    world.submissions = {team_id: uuid.uuid4() for team_id in world.teams.values()}
    return world


def criteria_body(suite_ids: list[uuid.UUID], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "suites": [{"suite_id": str(s), "weight": 1.0, "min_accuracy": 0.3} for s in suite_ids],
        "part_weights": {"benchmark": 0.5, "expert": 0.3, "user": 0.2},
        "overall_threshold": 0.4,
        "advancing": 4,
        "tie_break": ["benchmark", "expert", "user"],
        # No minimum of arena votes unless a test states one (the platform's default is 30).
        "arena_min_votes": 0,
    }
    return body | overrides


DEMO_ENDPOINT = TritonEndpoint(
    url="127.0.0.1:8001", model_name="demo", model_version="1", protocol="grpc", gpu_pool="H100"
)


def evaluation_started(
    world: StageWorld,
    endpoint: TritonEndpoint = DEMO_ENDPOINT,
    objection_days: int = 10,
    planned_advancing: int | None = None,  # None: as an event from before the registry sent places
) -> EvaluationStarted:
    return EvaluationStarted(
        stage_id=world.stage_id,
        programme_id=world.programme_id,
        stage_number=1,
        started_at=datetime.now(UTC) - timedelta(minutes=5),
        submissions=[
            FrozenSubmission(
                submission_id=world.submissions[team_id],
                team_id=team_id,
                version=1,
                endpoint=endpoint,
                manifest_digest="sha256:" + "ab" * 32,
            )
            for team_id in world.teams.values()
        ],
        objection_days=objection_days,
        planned_advancing=planned_advancing,
    )


async def start_evaluation(
    scoring: Scoring,
    world: StageWorld,
    endpoint: TritonEndpoint = DEMO_ENDPOINT,
    objection_days: int = 10,
    planned_advancing: int | None = None,
) -> None:
    """Announce the start as the registry does, and wait until scoring planned the runs."""
    await publish(scoring.bootstrap, evaluation_started(world, endpoint, objection_days, planned_advancing))

    async def planned() -> list[Any] | None:
        async with scoring.runtime.sessions() as session:
            runs = await planning.runs_of_stage(session, world.stage_id)
            return runs or None

    await eventually(planned)


async def grade_team(scoring: Scoring, world: StageWorld, team_id: uuid.UUID, accuracy: float) -> None:
    """Grade each of the team's runs from synthetic responses: the first share of items answered right."""
    async with scoring.ctx() as ctx:
        for run in await planning.runs_of_stage(ctx.session, world.stage_id):
            if run.team_id != team_id:
                continue
            content = await suites.load_content(
                ctx.session, await suites.get_suite(ctx.session, run.suite_id)
            )
            right = round(accuracy * len(content.items))
            responses = [
                grading.Response(item.item_id, _answer(item) if i < right else "모르겠습니다")
                for i, item in enumerate(content.items)
            ]
            await grading.grade_run(ctx, run, responses, "0" * 64, rounds=200)


def _answer(item: Any) -> str:
    key = item.key
    if key.choice is not None:
        return f"정답: {item.effective_labels()[key.choice]}"
    if key.number is not None:
        return f"The answer is {key.number:g}"
    return str(key.answers[0])


async def add_expert_scores(
    scoring: Scoring, world: StageWorld, team_id: uuid.UUID, values: list[float]
) -> None:
    async with scoring.ctx() as ctx:
        for i, value in enumerate(values):
            ctx.session.add(
                ExpertScore(
                    id=uuid.uuid4(),
                    stage_id=world.stage_id,
                    team_id=team_id,
                    evaluator=f"expert-{i}",
                    technical_originality=value,
                    technological_capability=value,
                    readiness=value,
                    comment="evaluated",
                    submitted_at=ctx.clock.now(),
                )
            )


async def add_votes(
    scoring: Scoring, world: StageWorld, a: uuid.UUID, b: uuid.UUID, choices: list[str]
) -> None:
    async with scoring.ctx() as ctx:
        for i, choice in enumerate(choices):
            battle = Battle(
                id=uuid.uuid4(),
                stage_id=world.stage_id,
                voter=f"voter-{i % 7}",
                prompt="서울의 명소를 추천해 주세요.",
                a_team_id=a,
                b_team_id=b,
                a_submission_id=world.submissions[a],
                b_submission_id=world.submissions[b],
                a_text="경복궁을 추천합니다.",
                b_text="남산타워를 추천합니다.",
                created_at=ctx.clock.now(),
            )
            ctx.session.add(battle)
            await ctx.session.flush()
            ctx.session.add(
                Vote(
                    battle_id=battle.id,
                    stage_id=world.stage_id,
                    voter=battle.voter,
                    choice=choice,
                    counted=True,
                    seoul_day="2026-11-22",
                    voted_at=ctx.clock.now(),
                )
            )


async def add_originality(scoring: Scoring, world: StageWorld, team_id: uuid.UUID, verdict: str) -> uuid.UUID:
    check_id = uuid.uuid4()
    async with scoring.ctx() as ctx:
        ctx.session.add(
            OriginalityCheck(
                id=check_id,
                stage_id=world.stage_id,
                team_id=team_id,
                submission_id=world.submissions[team_id],
                weights_path=f"teams/{team_id}/model.safetensors",
                status=CheckStatus.COMPLETED,
                verdict=Verdict(verdict),
                summary=f"verdict {verdict}",
                report={},
                requested_by="operator-kim",
                created_at=ctx.clock.now(),
            )
        )
    return check_id


NAMES = ["Upstage", "SK Telecom", "LG AI Research", "NC AI", "Naver Cloud"]


FIVE_TEAM_OBJECTION_DAYS = 7  # not the default, so that passing it on shows


async def five_team_stage(scoring: Scoring) -> StageWorld:
    """Upstage, SKT and LG pass both gates; NC AI falls below the threshold; Naver Cloud reuses weights.

    The registry's stage gives its teams 7 days to object."""
    suites = await demo_suites(scoring)
    world = await new_stage(scoring, NAMES)
    world.suite_ids = [uuid.UUID(suites[k]["id"]) for k in ("demo-ko-general-mcq", "demo-en-general-mcq")]
    await body(
        await scoring.client.put(
            f"/v1/stages/{world.stage_id}/criteria",
            json=criteria_body(world.suite_ids),
            headers=scoring.operator(),
        )
    )
    places = criteria_body([])["advancing"]  # the registry's stage plans what the criteria say
    await start_evaluation(scoring, world, objection_days=FIVE_TEAM_OBJECTION_DAYS, planned_advancing=places)
    t = world.teams
    for name, accuracy in [("Upstage", 0.9), ("SK Telecom", 0.8), ("LG AI Research", 0.7), ("NC AI", 0.2)]:
        await grade_team(scoring, world, t[name], accuracy)
    await grade_team(scoring, world, t["Naver Cloud"], 1.0)
    for name, experts in [
        ("Upstage", [80, 82, 84]),
        ("SK Telecom", [70, 75, 72]),
        ("LG AI Research", [65, 66, 67, 90, 10]),
        ("NC AI", [95, 96, 97]),
        ("Naver Cloud", [90, 91, 92]),
    ]:
        await add_expert_scores(scoring, world, t[name], [float(v) for v in experts])
    await add_votes(scoring, world, t["Upstage"], t["SK Telecom"], ["a", "a", "b", "tie", "a", "both-bad"])
    await add_votes(scoring, world, t["SK Telecom"], t["LG AI Research"], ["a", "b", "a", "tie"])
    await add_votes(scoring, world, t["LG AI Research"], t["NC AI"], ["a", "b", "tie", "tie"])
    await add_votes(scoring, world, t["NC AI"], t["Naver Cloud"], ["b", "a", "tie"])
    await add_votes(scoring, world, t["Naver Cloud"], t["Upstage"], ["b", "a", "tie"])
    for name in NAMES:
        await add_originality(scoring, world, t[name], "reused" if name == "Naver Cloud" else "original")
    return world


def by_name(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {team["team_name"]: team for team in result["teams"]}


async def watch_records(
    bootstrap: str,
    topic: str,
    done: Callable[[list[ConsumerRecord[bytes, bytes]]], T | None],
    timeout: float = 45.0,
) -> T:
    """Read the topic from the beginning with one consumer until ``done`` (given every record read so
    far) returns something."""
    # No consumer group: joining one costs seconds, and a watcher needs every partition anyway.
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for batch in batches.values():
                records.extend(batch)
            found = done(records)
            if found is not None:
                return found
    finally:
        await consumer.stop()
    raise AssertionError(f"nothing expected arrived on {topic} in {timeout} s")


async def watch_topic(
    bootstrap: str, topic: str, done: Callable[[list[dict[str, Any]]], T | None], timeout: float = 45.0
) -> T:
    """As ``watch_records``, with each record's CloudEvents envelope."""
    return await watch_records(
        bootstrap, topic, lambda records: done([json.loads(r.value or b"{}") for r in records]), timeout
    )


async def stage_events(scoring: Scoring, topic: Topic, world: StageWorld, types: set[str]) -> dict[str, Any]:
    """The latest event of each wanted type about the stage on the topic (waits until all arrived)."""

    def found(envelopes: list[dict[str, Any]]) -> dict[str, Any] | None:
        latest: dict[str, Any] = {}
        for envelope in envelopes:
            if envelope.get("type") in types and envelope["data"].get("stage_id") == str(world.stage_id):
                latest[envelope["type"]] = envelope["data"]
        return latest if set(latest) == types else None

    return await watch_topic(scoring.bootstrap, str(topic), found)
