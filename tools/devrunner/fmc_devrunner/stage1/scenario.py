"""The first evaluation of the seed articles, driven through the services' public REST APIs and events.

Every step acts as the person or system that would act in the programme (an operator, a team, an
expert, an arena user, a partner listening to the public topic), with that role's token, and only
through the platform's APIs; the simulated parts (the teams' models and weights, the experts' and
users' judgements, the objection) are in ``world.py``. A step that does not get what the rules
promise raises ``ReplayFailed`` with what it saw.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import shutil
import time
import unicodedata
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer

from fmc_common.auth import Role
from fmc_common.dev_auth import mint_token
from fmc_common.events.topics import Topic
from fmc_devrunner import polling
from fmc_devrunner.stack import DevStack
from fmc_devrunner.stage1 import world
from fmc_devrunner.stage1.models import JUDGE_MODEL
from fmc_registry import seed
from fmc_scoring.originality import demo_weights

T = TypeVar("T")

ALL_SUITES = (
    "demo-ko-general-mcq",
    "demo-en-general-mcq",
    "demo-ko-short-answer",
    "demo-en-arithmetic",
    "demo-en-python-functions",
    "demo-en-open-answers",
)
EXECUTED_SUITE = "demo-en-python-functions"  # code run against hidden tests in the sandbox
JUDGED_SUITE = "demo-en-open-answers"  # open answers judged by the judge model through the gateway
# pass@2 over 3 samples per item (the simulated models answer alike whatever the seed: pass@2 = pass@1)
EXECUTED_SAMPLING = {"samples": 3, "pass_k": 2}


@dataclass(frozen=True)
class Scale:
    """How much evidence the replay gathers: the full demo, or a quicker one for CI."""

    suites: tuple[str, ...] = ALL_SUITES
    voters: int = 8
    battles_per_voter: int = 8
    max_extra_rounds: int = 4  # more voting while a model has fewer counted votes than the criteria's minimum


FULL = Scale()
SMALL = Scale(
    suites=("demo-ko-general-mcq", "demo-en-arithmetic", EXECUTED_SUITE, JUDGED_SUITE),
    voters=6,
    battles_per_voter=8,
)

# Criteria of the simulated stage (ILLUSTRATIVE: the articles do not publish the weights).
PART_WEIGHTS = {"benchmark": 0.4, "expert": 0.4, "user": 0.2}
OVERALL_THRESHOLD = 0.5
SUITE_MINIMUM = 0.2
# Counted arena votes each model needs before a result is proposed (the platform's default is 30;
# the replay's small arena states its own, and votes until every model has it).
ARENA_MIN_VOTES = 15
FORBIDDEN_PUBLIC_KEYS = ("score", "rank", "composite", "accuracy", "rating", "benchmark", "expert", "vote")


class ReplayFailed(RuntimeError):
    pass


@dataclass
class TeamState:
    lead: str
    name: str
    team_id: uuid.UUID
    model: world.TeamModel
    submission_id: uuid.UUID | None = None
    gpu_support: str = ""
    originality: str = ""
    originality_summary: str = ""
    expert_scores: int = 0
    outcome: str = ""
    reason: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)
    final_status: str = ""


@dataclass
class ReplayRecord:
    """Everything the report shows; filled step by step."""

    scale: dict[str, Any] = field(default_factory=dict)
    programme: dict[str, Any] = field(default_factory=dict)
    teams: list[TeamState] = field(default_factory=list)
    runs: dict[str, Any] = field(default_factory=dict)
    panel: dict[str, Any] = field(default_factory=dict)
    arena: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    public_announcement: list[dict[str, Any]] = field(default_factory=list)
    public_endpoint: dict[str, Any] = field(default_factory=dict)
    confidentiality: dict[str, Any] = field(default_factory=dict)
    grievance: dict[str, Any] = field(default_factory=dict)
    finalisation: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    # `fmc demo --through stage-2`: the continuation's own record (report.json's "stage2").
    stage2_record: ReplayRecord | None = None

    @property
    def stage2(self) -> bool:
        return self.stage2_record is not None


class Replay:
    def __init__(self, stack: DevStack, scale: Scale, say: Callable[[str], None] = print) -> None:
        self.stack = stack
        self.scale = scale
        self.say = say
        self.record = ReplayRecord(scale={"suites": list(scale.suites), "voters": scale.voters})
        self.client = httpx.AsyncClient(trust_env=False, timeout=60)
        self.seed: seed.SeedResult | None = None
        self.stage_id = uuid.UUID(int=0)
        self.stage_number = 1
        self.places = 4  # the stage's planned advancing teams (the seed: 5 -> 4)
        self.teams: dict[str, TeamState] = {}
        self.suite_ids: dict[str, str] = {}
        self._started = time.perf_counter()

    # -- plumbing -------------------------------------------------------------------------------

    def url(self, service: str, path: str) -> str:
        return f"{self.stack.services[service].url}{path}"

    def token(self, role: Role, subject: str, team_id: uuid.UUID | None = None) -> dict[str, str]:
        minted = mint_token(
            self.stack.auth, subject=subject, role=role, team_id=team_id, now=datetime.now(UTC)
        )
        return {"Authorization": f"Bearer {minted}"}

    def operator(self) -> dict[str, str]:
        return self.token(Role.OPERATOR, "operator-ministry")

    def as_team(self, team: TeamState) -> dict[str, str]:
        return self.token(Role.TEAM, f"team-{team.lead}", team.team_id)

    async def call(
        self,
        method: str,
        service: str,
        path: str,
        headers: dict[str, str],
        body: Any = None,
        expect: tuple[int, ...] = (200, 201),
    ) -> Any:
        response = await self.client.request(method, self.url(service, path), json=body, headers=headers)
        if response.status_code not in expect:
            raise ReplayFailed(f"{method} {service}{path} -> {response.status_code}: {response.text[:800]}")
        return response.json() if response.content else None

    async def decide(
        self, objection: dict[str, Any], outcome: str, reason: str, concerns: list[str] | None = None
    ) -> dict[str, Any]:
        """The operator decides an objection (grievance), with its reason and, if accepted, its concerns."""
        body: dict[str, Any] = {"outcome": outcome, "reason": reason}
        if concerns is not None:
            body["concerns"] = concerns
        path = f"/v1/objections/{objection['id']}/decision"
        decided: dict[str, Any] = await self.call("POST", "grievance", path, self.operator(), body)
        return decided

    async def eventually(self, what: str, probe: Callable[[], Awaitable[T | None]], timeout: float) -> T:
        """The shared poll (fmc_devrunner.polling), stopping at once when a service process died."""

        async def alive_and() -> T | None:
            for service in self.stack.services.values():
                service.process.check_alive()
            return await probe()

        return await polling.eventually(
            alive_and, timeout=timeout, interval=0.25, what=what, failure=ReplayFailed
        )

    async def team_weights(self) -> dict[str, Any]:
        """Every team's SIMULATED weights file, by lead (written under the stack's weights root)."""
        return await asyncio.to_thread(demo_weights.write_demo_weights, self.stack.weights_root)

    async def step(self, name: str, action: Callable[[], Awaitable[None]]) -> None:
        elapsed = time.perf_counter() - self._started
        self.say(f"\n[{elapsed:6.1f}s] {name}")
        started = time.perf_counter()
        await action()
        self.record.timings[name] = round(time.perf_counter() - started, 2)

    async def run(self) -> ReplayRecord:
        try:
            await self.step("1. programme: 15 applicants, 5 selected, support", self.programme)
            await self.step("2. stage 1 opens; the teams submit their models", self.submissions)
            await self.step("3a. evaluation starts; benchmark runs through the gateway", self.benchmarks)
            await self.step("3b. expert panel scores", self.expert_panel)
            await self.step("3c. arena battles voted by simulated users", self.arena)
            await self.step("3d. originality check of every team's weights", self.originality)
            await self.step("4. result proposed, approved and published", self.results)
            await self.step("   the public announcement as a partner receives it", self.partner_view)
            await self.step("5a. notification and an objection, rejected with a reason", self.objection)
            await self.step("5b. the windows close (clock advanced); finalisation", self.closing)
            await self.step("5c. additional-selection call for the vacancy", self.additional_selection)
        finally:
            await self.client.aclose()
        return self.record

    # -- 1. programme ---------------------------------------------------------------------------

    async def programme(self) -> None:
        base = self.stack.services["registry"].url
        async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=30) as registry:
            self.seed = await seed.load_seed_programme(registry, self.operator())
        self.stage_id = self.seed.stage_ids[1]
        teams = await self.call(
            "GET", "registry", f"/v1/teams?programme_id={self.seed.programme_id}&limit=100", self.operator()
        )
        by_id = {item["id"]: item for item in teams["items"]}
        support = await self.call(
            "GET", "registry", f"/v1/programmes/{self.seed.programme_id}/support", self.operator()
        )
        for model in world.TEAM_MODELS:
            team_id = self.seed.team_ids[model.lead]
            status, code = self.seed.gpu_outcomes[model.lead]
            state = TeamState(model.lead, by_id[str(team_id)]["name"], team_id, model)
            state.gpu_support = "allocated" if status == 201 else f"refused: {code}"
            self.teams[model.lead] = state
        self.record.teams = list(self.teams.values())
        selected = [t for t in by_id.values() if t["status"] == "selected"]
        self.record.programme = {
            "programme_id": str(self.seed.programme_id),
            "stage_id": str(self.stage_id),
            "applicants": len(by_id),
            "selected": sorted(t["name"] for t in selected),
            "budget_won": support.get("budget_won"),
            "pools": [{"kind": p["kind"], "amount_won": p["amount_won"]} for p in support.get("pools", [])],
            "gpu_support": {t.name: t.gpu_support for t in self.teams.values()},
        }
        if len(by_id) != 15 or len(selected) != 5:
            raise ReplayFailed(f"expected 15 applicants and 5 selected, got {len(by_id)} and {len(selected)}")
        self.say(f"  {len(by_id)} applicants registered, {len(selected)} selected; GPU support:")
        for team in self.teams.values():
            self.say(f"    {team.name:<28} {team.gpu_support}")

    # -- 2. submissions -------------------------------------------------------------------------

    async def submissions(self) -> None:
        assert self.stack.triton is not None
        weights = await self.team_weights()
        await self.call(
            "POST",
            "registry",
            f"/v1/stages/{self.stage_id}/status",
            self.operator(),
            {"to": "open-for-submissions", "reason": f"stage {self.stage_number} opens for submissions"},
        )
        for team in self.teams.values():
            path = weights[team.lead]
            digest = await asyncio.to_thread(_sha256_file, path)
            body = {
                "endpoint": {
                    "url": f"grpc://{self.stack.triton.grpc_url}",
                    "model_name": team.model.model_name,
                    "model_version": "1",
                    "protocol": "grpc",
                    "gpu_pool": team.model.gpu_pool,
                },
                "manifest": {
                    "files": [
                        {"path": "model.safetensors", "sha256": digest, "size_bytes": path.stat().st_size}
                    ],
                    "architecture": {
                        "family": "vision-language transformer (simulated)",
                        "parameters": 1_000_000,
                    },
                    "declared_base": {"kind": "from-scratch", "components": []},
                },
                "model_card": {
                    "description": f"SIMULATED stand-in for {team.name}'s model in the stage-1 replay.",
                    "languages": ["ko", "en"],
                    "licence": "demo only",
                    "intended_use": "Exercising the evaluation platform",
                    "limitations": "Not a real model: answers from a simulated knowledge table",
                    "training_data": "None (simulated)",
                },
            }
            created = await self.call(
                "POST",
                "registry",
                f"/v1/stages/{self.stage_id}/teams/{team.team_id}/submissions",
                self.as_team(team) | {"Idempotency-Key": f"stage{self.stage_number}-{team.lead}"},
                body,
            )
            team.submission_id = uuid.UUID(created["id"])
            # The team delivers its files where the registry says, as its manifest declares them.
            delivered = self.stack.weights_root / created["weights_location"] / "model.safetensors"
            await asyncio.to_thread(_deliver, path, delivered)
            self.say(f"  {team.name:<28} {team.model.model_name} v1 on the {team.model.gpu_pool} pool")

    # -- 3a. benchmarks -------------------------------------------------------------------------

    async def benchmarks(self) -> None:
        installed = await self.call("POST", "scoring", "/v1/suites/demo", self.operator())
        self.suite_ids = {s["key"]: s["id"] for s in installed if s["key"] in self.scale.suites}
        await self.set_judges({s["key"]: s for s in installed if s["key"] in self.scale.suites})
        criteria = {
            "suites": [
                {"suite_id": self.suite_ids[key], "weight": 1.0, "min_accuracy": SUITE_MINIMUM}
                | (EXECUTED_SAMPLING if key == EXECUTED_SUITE else {})
                for key in self.scale.suites
            ],
            "part_weights": PART_WEIGHTS,
            "overall_threshold": OVERALL_THRESHOLD,
            "advancing": self.places,
            "tie_break": ["benchmark", "expert", "user"],
            "arena_min_votes": ARENA_MIN_VOTES,
            "decoding": {"max_tokens": 64, "temperature": 0.0, "top_p": 1.0, "seed": 0},
            "limits": {"request_timeout_seconds": 30, "max_attempts": 3},
        }
        await self.call("PUT", "scoring", f"/v1/stages/{self.stage_id}/criteria", self.operator(), criteria)
        self.say(
            f"  criteria set: {len(self.scale.suites)} demo suites, overall threshold {OVERALL_THRESHOLD}, "
            f"parts {PART_WEIGHTS}, {self.places} places"
        )
        await self.call("POST", "registry", f"/v1/stages/{self.stage_id}/evaluation", self.operator())
        expected = len(self.teams) * len(self.scale.suites)
        seen: dict[str, int] = {}

        async def all_graded() -> list[dict[str, Any]] | None:
            runs = await self.call("GET", "scoring", f"/v1/stages/{self.stage_id}/runs", self.operator())
            counts: dict[str, int] = {}
            for run in runs:
                counts[run["status"]] = counts.get(run["status"], 0) + 1
                if run["status"] == "failed":
                    raise ReplayFailed(
                        f"run {run['id']} failed: {run['failure_code']} {run['failure_reason']}"
                    )
            if counts != seen:
                seen.clear()
                seen.update(counts)
                self.say(
                    f"  runs: {len(runs)}/{expected} planned, "
                    + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
                )
            return runs if len(runs) == expected and counts.get("graded") == expected else None

        runs = await self.eventually("every benchmark run graded", all_graded, timeout=300)
        gateway_runs = await self.call(
            "GET", "inference-gateway", f"/v1/runs?stage_id={self.stage_id}&limit=100", self.operator()
        )
        items = sum(r["total"] for r in gateway_runs["items"])
        self.record.runs = {
            "runs": len(runs),
            "items_answered": items,
            "server_versions": sorted({str(r.get("server_version")) for r in gateway_runs["items"]}),
        }
        self.say(f"  {len(runs)} runs graded, {items} items answered by Triton through the gateway")
        await self.record_judgements(runs)

    async def set_judges(self, suites: dict[str, dict[str, Any]]) -> None:
        """Every judged suite of the stage gets the same judge: the judge model on the stack's Triton,
        pinned, single-answer grading with MT-Bench's template and rubric (scoring's defaults)."""
        assert self.stack.triton is not None
        for key, suite in suites.items():
            if suite["kind"] != "judged":
                continue
            judge = {
                "mode": "single",
                "endpoint": {
                    "url": f"grpc://{self.stack.triton.grpc_url}",
                    "model_name": JUDGE_MODEL,
                    "model_version": "1",
                    "protocol": "grpc",
                    "gpu_pool": "H100",
                },
                "max_tokens": 64,
            }
            path = f"/v1/suites/{suite['id']}/judge"
            judge_set = await self.call("PUT", "scoring", path, self.operator(), judge)
            self.say(
                f"  judge of {key}: {JUDGE_MODEL} v1, {judge_set['mode']}, "
                f"template {judge_set['template_version']}"
            )

    async def record_judgements(self, runs: list[dict[str, Any]]) -> None:
        """What the judge said about each team's answers to the judged suites (the raw outputs stay in
        scoring; the report keeps the ratings per team)."""
        by_team = {t.team_id: t for t in self.teams.values()}
        judged_ids = {v: k for k, v in self.suite_ids.items() if k == JUDGED_SUITE}
        judged: dict[str, dict[str, Any]] = {}
        for run in runs:
            if run["suite_id"] not in judged_ids:
                continue
            rows = await self.call("GET", "scoring", f"/v1/runs/{run['id']}/judgements", self.operator())
            ratings = _count(f"{row['rating']:g}" if row["parsed"] else "unparsable" for row in rows)
            judged[by_team[uuid.UUID(run["team_id"])].lead] = {"judgements": len(rows), "ratings": ratings}
        self.record.runs["judged"] = judged
        for lead, seen in judged.items():
            self.say(
                f"  judge on {lead}'s open answers: {seen['judgements']} judgements, "
                f"ratings {seen['ratings']}"
            )

    # -- 3b. expert panel -----------------------------------------------------------------------

    async def expert_panel(self) -> None:
        deadline = (self.stack.now() + timedelta(days=5)).isoformat()
        panel = {
            "deadline": deadline,
            "evaluators": [
                {"subject": e.subject, "name": e.name, "affiliations": [e.affiliation]}
                for e in world.EVALUATORS
            ],
        }
        await self.call("PUT", "scoring", f"/v1/stages/{self.stage_id}/panel", self.operator(), panel)
        refusals: list[str] = []
        for evaluator in world.EVALUATORS:
            headers = self.token(Role.EVALUATOR, evaluator.subject)
            for team in self.teams.values():
                value = max(0.0, min(100.0, team.model.expert_base + evaluator.offset))
                body = {
                    "team_id": str(team.team_id),
                    "technical_originality": round(min(100.0, value + 1), 1),
                    "technological_capability": round(value, 1),
                    "readiness": round(max(0.0, value - 1), 1),
                    "comment": f"Simulated assessment of {team.name} by {evaluator.name}.",
                }
                response = await self.client.post(
                    self.url("scoring", f"/v1/stages/{self.stage_id}/panel/scores"),
                    json=body,
                    headers=headers,
                )
                if response.status_code == 201:
                    team.expert_scores += 1
                elif response.json().get("code") == "conflict-of-interest":
                    refusals.append(f"{evaluator.name} -> {team.name}")
                else:
                    raise ReplayFailed(f"expert score refused: {response.status_code} {response.text[:400]}")
        self.record.panel = {
            "evaluators": len(world.EVALUATORS),
            "conflict_refusals": refusals,
            "scores": {t.name: t.expert_scores for t in self.teams.values()},
        }
        self.say(
            f"  {sum(t.expert_scores for t in self.teams.values())} scores from {len(world.EVALUATORS)} "
            f"evaluators; refused for conflict of interest: {', '.join(refusals) or 'none'}"
        )
        if not refusals:
            raise ReplayFailed("the evaluator affiliated with LG AI Research was not refused")

    # -- 3c. arena ------------------------------------------------------------------------------

    async def arena(self) -> None:
        rng = random.Random(20251230)  # noqa: S311  (a reproducible simulation, not a secret)
        references = {p.prompt: p.reference for p in world.ARENA_PROMPTS}
        battles = 0
        votes = {"a": 0, "b": 0, "tie": 0, "both-bad": 0}
        rounds = self.scale.battles_per_voter
        for _ in range(self.scale.max_extra_rounds + 1):
            for voter in range(1, self.scale.voters + 1):
                headers = self.token(Role.EVALUATOR, f"arena-user-{voter:02d}")
                for _ in range(rounds):
                    prompt = rng.choice(world.ARENA_PROMPTS).prompt
                    battle = await self.call(
                        "POST",
                        "scoring",
                        f"/v1/stages/{self.stage_id}/arena/battles",
                        headers,
                        {"prompt": prompt},
                    )
                    choice = _simulated_vote(rng, references[prompt], battle["answers"])
                    await self.call(
                        "POST",
                        "scoring",
                        f"/v1/arena/battles/{battle['battle_id']}/vote",
                        headers,
                        {"choice": choice},
                    )
                    battles += 1
                    votes[choice] += 1
            standings = await self.call(
                "GET", "scoring", f"/v1/stages/{self.stage_id}/arena/standings", self.operator()
            )
            fewest = min((t["votes"] for t in standings["teams"]), default=0)
            if len(standings["teams"]) < len(self.teams):
                fewest = 0
            self.say(f"  {battles} battles voted; fewest counted votes of a model: {fewest}")
            if fewest >= ARENA_MIN_VOTES:
                break
            rounds = 2  # a few more votes from every user, as an operator would collect
        if fewest < ARENA_MIN_VOTES:
            # Scoring will refuse the proposal (arena-votes-insufficient): the replay says so first.
            self.say(f"  a model has {fewest} counted votes, below the criteria's {ARENA_MIN_VOTES}")
        self.record.arena = {
            "battles": battles,
            "votes": votes,
            "converged": standings["converged"],
            "counted_votes": standings["votes"],
        }

    # -- 3d. originality ------------------------------------------------------------------------

    async def originality(self) -> None:
        donor = {
            "name": demo_weights.DONOR_NAME,
            "revision": demo_weights.DONOR_REVISION,
            "weights_path": "donor/model.safetensors",
        }
        await self.call("POST", "scoring", "/v1/originality/donors", self.operator(), donor)
        self.say(
            f"  donor registered: {demo_weights.DONOR_NAME} (simulated stand-in for a public vision encoder)"
        )
        for team in self.teams.values():
            # The team and its weights are the frozen submission's: no path, no team in the request.
            body = {"stage_id": str(self.stage_id), "submission_id": str(team.submission_id)}
            check = await self.call(
                "POST",
                "scoring",
                "/v1/originality/checks",
                self.operator() | {"Idempotency-Key": f"originality-{team.lead}"},
                body,
            )
            team.originality = check["verdict"]
            team.originality_summary = check["summary"]
            self.say(f"  {team.name:<28} {check['verdict']:<9} {check['summary']}")

    # -- 4. results -----------------------------------------------------------------------------

    async def results(self) -> None:
        proposed = await self.call("POST", "scoring", f"/v1/stages/{self.stage_id}/results", self.operator())
        if proposed["blocking"]:
            raise ReplayFailed(f"the proposed result is blocked: {proposed['blocking']}")
        approved = await self.call(
            "POST",
            "scoring",
            f"/v1/stages/{self.stage_id}/results/{proposed['version']}/approval",
            self.operator(),
        )
        by_id = {t.team_id: t for t in self.teams.values()}
        for row in approved["teams"]:
            team = by_id[uuid.UUID(row["team_id"])]
            team.outcome, team.reason = row["outcome"], row["reason"]
            suites = row["detail"].get("inputs", {}).get("suites", {})
            team.figures = {
                "rank": row["rank"],
                "composite": row["composite"],
                "benchmark": row["benchmark"],
                "expert": row["expert"],
                "user": row["user"],
                "benchmark_accuracy": row["detail"].get("benchmark_accuracy"),
                "suite_accuracy": {s.get("suite_key", key): s.get("accuracy") for key, s in suites.items()},
            }
        self.record.result = {
            "version": approved["version"],
            "status": approved["status"],
            "advancing_planned": approved["advancing_planned"],
            "advancing": approved["advancing"],
            "vacancies": approved["vacancies"],
            "approved_at": approved["approved_at"],
        }
        self.say(
            f"  result v{approved['version']} {approved['status']}: {approved['advancing']} advance, "
            f"{approved['vacancies']} vacancy"
        )

    async def public_events(self, last: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """The stage's envelopes on the public topic, read from the start (a new reader with no
        consumer group, as a partner would), up to the first for which ``last(envelope)`` holds."""
        return (await self.read_public(last))[0]

    async def read_public(
        self, last: Callable[[dict[str, Any]], bool]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """``public_events``, and every envelope read on the way (of any stage, or of none)."""
        assert self.stack.broker is not None
        consumer = AIOKafkaConsumer(
            str(Topic.PUBLIC),
            bootstrap_servers=self.stack.broker.bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        seen: list[dict[str, Any]] = []
        everything: list[dict[str, Any]] = []
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                for batch in (await consumer.getmany(timeout_ms=300)).values():
                    for record in batch:
                        envelope = json.loads(record.value or b"{}")
                        everything.append(envelope)
                        if not _about_stage(envelope, self.stage_id):
                            continue
                        seen.append(envelope)
                        if last(envelope):
                            return seen, everything
        finally:
            await consumer.stop()
        raise ReplayFailed(f"not on the public topic within 60 s; the stage's events: {seen}")

    async def partner_view(self) -> None:
        """A partner reads the public topic from the beginning (no consumer group, as a new reader)."""
        announced, everything = await self.read_public(
            lambda e: "stage-result-announced" in e.get("type", "")
        )
        self.record.public_announcement = announced
        public = await self.client.get(self.url("scoring", f"/v1/public/stages/{self.stage_id}/results"))
        teams_public = await self.client.get(self.url("registry", "/v1/public/teams?limit=100"))
        self.record.public_endpoint = public.json()
        leaks = [
            *(
                f"public topic {e['type']}: {path}"
                for e in everything
                for path in _forbidden_paths(e.get("data"))
            ),
            *(f"GET /v1/public/stages/{{id}}/results: {p}" for p in _forbidden_paths(public.json())),
            *(f"GET /v1/public/teams: {p}" for p in _forbidden_paths(teams_public.json())),
        ]
        self.record.confidentiality = {
            "public_events_checked": len(everything),
            "public_endpoints_checked": [
                "scoring /v1/public/stages/{id}/results",
                "registry /v1/public/teams",
            ],
            "forbidden_fields_found": leaks,
        }
        if leaks:
            raise ReplayFailed(f"a score or rank reached the public: {leaks}")
        data = announced[-1]["data"]
        for team in data["teams"]:
            self.say(f"  {team['team_name']:<28} {team['outcome']:<11} {team.get('reason_category') or ''}")

    # -- 5. grievance ---------------------------------------------------------------------------

    async def objection(self) -> None:
        async def notified() -> list[dict[str, Any]] | None:
            page = await self.call(
                "GET", "grievance", f"/v1/notifications?stage_id={self.stage_id}&limit=100", self.operator()
            )
            return page["items"] if len(page["items"]) == len(self.teams) else None

        notifications = await self.eventually("every team notified", notified, timeout=60)
        window = notifications[0]["window"]
        self.say(
            f"  {len(notifications)} teams notified; objections until {window['deadline']} "
            f"({window['objection_days']} days, Asia/Seoul)"
        )
        team = self.teams[world.OBJECTING_TEAM]
        body = {
            "grounds": "scoring-error",
            "statement": world.OBJECTION_STATEMENT,
            "decision": {"kind": "stage-result", "id": str(self.stage_id)},
        }
        filed = await self.call(
            "POST",
            "grievance",
            "/v1/objections",
            self.as_team(team) | {"Idempotency-Key": "stage1-objection-nc-ai"},
            body,
        )
        self.say(f"  {team.name} objects ({filed['grounds']}): objection {filed['id']} {filed['status']}")
        await self.call(
            "POST",
            "grievance",
            f"/v1/objections/{filed['id']}/review",
            self.operator(),
            {"note": "review opened by the evaluation committee"},
        )
        decided = await self.decide(filed, "rejected", world.OBJECTION_REJECTION)
        self.say(f"  decided: {decided['status']} - {world.OBJECTION_REJECTION[:80]}...")
        self.record.grievance = {
            "notified": len(notifications),
            "window": window,
            "objection": {
                "team": team.name,
                "grounds": filed["grounds"],
                "status": decided["status"],
                "reason": (decided.get("resolution") or {}).get("reason", world.OBJECTION_REJECTION),
            },
        }

    async def windows_close_at(self) -> datetime:
        """When the last objection window of the stage closes (stage 1: the one round's windows)."""
        return datetime.fromisoformat(self.record.grievance["window"]["closes_at"])

    async def closing(self) -> None:
        closes_at = await self.windows_close_at()
        delta = closes_at - self.stack.now() + timedelta(minutes=1)
        self.stack.advance_clock(delta)
        self.say(
            f"  clock advanced by {delta.days} days {delta.seconds // 3600} h (dev clock, every service)"
        )

        async def closed() -> dict[str, Any] | None:
            phase = await self.call(
                "GET", "grievance", f"/v1/decisions/stage-result/{self.stage_id}/grievance", self.operator()
            )
            return phase if phase["closed"] else None

        phase = await self.eventually("the grievance phase closed", closed, timeout=60)
        self.say(f"  {phase['windows_closed']} windows closed; objections {phase['objections_by_status']}")

        async def final() -> dict[str, Any] | None:
            public = await self.client.get(self.url("scoring", f"/v1/public/stages/{self.stage_id}/results"))
            return public.json() if public.status_code == 200 and public.json()["final"] else None

        await self.eventually("scoring finalised the stage", final, timeout=60)

        async def stage_final() -> dict[str, Any] | None:
            stage = await self.call("GET", "registry", f"/v1/stages/{self.stage_id}", self.operator())
            return stage if stage["status"] == "final" else None

        stage = await self.eventually("the registry recorded the final result", stage_final, timeout=60)
        for team in self.teams.values():
            row = await self.call("GET", "registry", f"/v1/teams/{team.team_id}", self.operator())
            team.final_status = row["status"] + (
                f" ({row['elimination_reason']})" if row["elimination_reason"] else ""
            )
        self.record.finalisation = {
            "grievance_closed_at": phase["closed_at"],
            "objections_by_status": phase["objections_by_status"],
            "stage_status": stage["status"],
            "team_status": {t.name: t.final_status for t in self.teams.values()},
        }
        self.say(
            f"  stage {self.stage_number} {stage['status']}; "
            + ", ".join(f"{t.lead}: {t.final_status}" for t in self.teams.values())
        )

    async def additional_selection(self) -> None:
        assert self.seed is not None
        programme_id = self.seed.programme_id

        async def opened() -> dict[str, Any] | None:
            calls = await self.call(
                "GET", "registry", f"/v1/programmes/{programme_id}/selection-calls", self.operator()
            )
            return calls[0] if calls else None

        call = await self.eventually("an additional-selection call", opened, timeout=60)
        self.record.finalisation["selection_call"] = {
            "id": call["id"],
            "status": call["status"],
            "vacancies": call["vacancies"],
            "eligible": len(call["eligible"]),
            "eligible_by_basis": _count(e["basis"] for e in call["eligible"]),
        }
        self.say(
            f"  call {call['id']} {call['status']}: {call['vacancies']} vacancy, {len(call['eligible'])} "
            f"eligible teams ({_count(e['basis'] for e in call['eligible'])})"
        )


def _sha256_file(path: Any) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _deliver(source: Path, target: Path) -> None:
    """Place a team's weights file at its submission's location in the weights store."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _normalise(text: str) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).casefold())


def _simulated_vote(rng: random.Random, reference: str, answers: dict[str, str]) -> str:
    """A simulated user: prefers the answer containing what they know to be right; sometimes random."""
    if rng.random() < world.ARENA_NOISE:
        return rng.choice(("a", "b", "tie"))
    wanted = _normalise(reference)
    a_ok, b_ok = (wanted in _normalise(answers[side]) for side in ("a", "b"))
    if a_ok and b_ok:
        return "tie"
    if a_ok or b_ok:
        return "a" if a_ok else "b"
    return "both-bad"


def _about_stage(envelope: dict[str, Any], stage_id: uuid.UUID) -> bool:
    data = envelope.get("data")
    return isinstance(data, dict) and data.get("stage_id") == str(stage_id)


def _forbidden_paths(value: Any, path: str = "") -> list[str]:
    """Keys that name a score or a rank anywhere in a public document."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            here = f"{path}.{key}" if path else str(key)
            if any(word in str(key).lower() for word in FORBIDDEN_PUBLIC_KEYS):
                found.append(here)
            found.extend(_forbidden_paths(inner, here))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found.extend(_forbidden_paths(inner, f"{path}[{index}]"))
    return found


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def compare_outcomes(
    record: ReplayRecord, advancing: Iterable[str], eliminated: Mapping[str, str], label: str
) -> None:
    """Each team's outcome (and reason) against the expected ones; any difference fails the replay."""
    outcomes = {t.lead: (t.outcome, t.reason) for t in record.teams}
    expected: dict[str, tuple[str, str | None]] = {lead: ("advance", None) for lead in advancing}
    expected |= {lead: ("eliminate", reason) for lead, reason in eliminated.items()}
    if outcomes != expected:
        raise ReplayFailed(f"the outcome differs from {label}: {outcomes}")
