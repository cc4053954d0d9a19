"""Confidentiality: neither the public nor another team ever receives a team's score, rank or
per-suite figure, across every read endpoint, every gRPC method and the public topic.

The test enumerates the service's GET routes and gRPC methods itself: a new endpoint with a path
parameter it cannot fill, or a new RPC field it does not know, fails the test until it is covered.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf import json_format

from fmc_common.events.topics import Topic
from fmc_protos.scoring.v1 import scoring_pb2, scoring_pb2_grpc
from scoring.harness import Scoring, StageWorld, add_originality, body, five_team_stage, stage_events

pytestmark = pytest.mark.broker
SCORE_LIKE = re.compile(r"score|rank|rating|accuracy|composite|points|grade|ci_low|ci_high|win_rate", re.I)
# The stage's criteria are rules agreed with every team, not a team's figure.
RULES = {"min_accuracy"}
VICTIM = "Upstage"
INTRUDER = "SK Telecom"


@dataclass
class Published:
    world: StageWorld
    victim: uuid.UUID
    intruder: uuid.UUID
    secrets: set[float]
    paths: dict[str, str]


def numbers(value: Any) -> Iterator[float]:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield float(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from numbers(item)


def keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from keys(item)


def figures(team: dict[str, Any]) -> set[float]:
    """Every number the operator view shows for a team, positions excepted (checked by name)."""
    found = set(numbers({k: team[k] for k in ("composite", "benchmark", "expert", "user")}))
    inputs = team["detail"]["inputs"]
    for figure in inputs["suites"].values():
        found |= {figure["accuracy"], figure["ci_low"], figure["ci_high"]}
    found |= set(numbers(inputs["expert"].get("per_criterion", {})))
    found |= {inputs["user"][k] for k in ("rating", "lower", "upper", "win_rate")}
    return {f for f in found if f is not None}


@pytest.fixture(scope="module")
async def published(scoring: Scoring) -> Published:
    world = await five_team_stage(scoring)
    operator = scoring.operator()
    first = await body(
        await scoring.client.post(f"/v1/stages/{world.stage_id}/results", headers=operator), 201
    )
    await body(await scoring.client.post(f"/v1/stages/{world.stage_id}/results/1/approval", headers=operator))
    await body(
        await scoring.client.post(f"/v1/stages/{world.stage_id}/results", headers=operator), 201
    )  # a proposal
    teams = {t["team_name"]: t for t in first["teams"]}
    victim, intruder = world.teams[VICTIM], world.teams[INTRUDER]
    runs = await body(await scoring.client.get(f"/v1/stages/{world.stage_id}/runs", headers=operator))
    victim_run = next(r for r in runs if r["team_id"] == str(victim))
    check_id = await add_originality(scoring, world, victim, "original")
    secrets = figures(teams[VICTIM]) - figures(teams[INTRUDER])  # the intruder may see its own numbers
    paths = {
        "stage_id": str(world.stage_id),
        "team_id": str(victim),
        "version": "1",
        "run_id": victim_run["id"],
        "suite_id": victim_run["suite_id"],
        "check_id": str(check_id),
        "donor_id": str(uuid.uuid4()),
        "battle_id": str(uuid.uuid4()),
    }
    return Published(world, victim, intruder, secrets, paths)


@dataclass(frozen=True)
class ReadEndpoint:
    path: str
    path_params: list[str]
    query_params: list[str]


def read_endpoints(scoring: Scoring) -> list[ReadEndpoint]:
    """Every GET operation the service documents (its OpenAPI document lists every route)."""
    found = []
    for path, operations in scoring.app.openapi()["paths"].items():
        if "get" not in operations:
            continue
        parameters = operations["get"].get("parameters", [])
        found.append(
            ReadEndpoint(
                path,
                [p["name"] for p in parameters if p["in"] == "path"],
                [p["name"] for p in parameters if p["in"] == "query"],
            )
        )
    return found


def fill(endpoint: ReadEndpoint, values: dict[str, str]) -> tuple[str, dict[str, str]]:
    path = endpoint.path
    for name in endpoint.path_params:
        assert name in values, f"{endpoint.path}: add a value for path parameter {name!r} to this test"
        path = path.replace(f"{{{name}}}", values[name])
    return path, {name: values[name] for name in endpoint.query_params if name in values}


def assert_nothing_confidential(where: str, payload: Any, secrets: set[float]) -> None:
    leaked_keys = sorted({k for k in keys(payload) if SCORE_LIKE.search(k) and k not in RULES})
    assert leaked_keys == [], f"{where}: carries {leaked_keys}"
    leaked = [n for n in numbers(payload) if any(abs(n - s) < 1e-9 for s in secrets)]
    assert leaked == [], f"{where}: carries the victim's figures {leaked}"


REFUSALS = {grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND}


async def call(method: Any, request: Any, metadata: Any) -> Any:
    """The answer, or the status code the call was refused with."""
    try:
        return await method(request, metadata=metadata)
    except grpc.aio.AioRpcError as error:
        return error.code()


class TestConfidentiality:
    async def test_the_enumeration_covers_the_result_endpoints(self, scoring: Scoring) -> None:
        paths = {e.path for e in read_endpoints(scoring)}
        assert {
            "/v1/public/stages/{stage_id}/results",
            "/v1/stages/{stage_id}/teams/{team_id}/result",
            "/v1/stages/{stage_id}/results/{version}",
        } <= paths

    @pytest.mark.parametrize("caller", ["anonymous", "another-team"])
    async def test_no_read_endpoint_gives_away_a_teams_figures(
        self, scoring: Scoring, published: Published, caller: str
    ) -> None:
        headers = {} if caller == "anonymous" else scoring.as_team(published.intruder)
        for endpoint in read_endpoints(scoring):
            path, query = fill(endpoint, published.paths)
            response = await scoring.client.get(path, params=query, headers=headers)
            assert response.status_code < 500, f"{path}: {response.text}"
            try:
                payload = response.json()
            except ValueError:
                payload = re.findall(r"[-+]?\d+\.\d+", response.text)  # text bodies: look at the decimals
                payload = [float(x) for x in payload]
            assert_nothing_confidential(f"{caller} GET {path}", payload, published.secrets)

    async def test_the_public_view_names_outcomes_and_reasons_only(
        self, scoring: Scoring, published: Published
    ) -> None:
        public = await body(await scoring.client.get(f"/v1/public/stages/{published.world.stage_id}/results"))
        assert {frozenset(t) for t in public["teams"]} == {
            frozenset({"team_id", "team_name", "outcome", "reason_category"})
        }

    async def test_a_team_sees_its_own_figures_but_no_position(
        self, scoring: Scoring, published: Published
    ) -> None:
        own = await body(
            await scoring.client.get(
                f"/v1/stages/{published.world.stage_id}/teams/{published.victim}/result",
                headers=scoring.as_team(published.victim),
            )
        )
        assert own["suites"]
        assert own["composite"] is not None
        assert not [k for k in keys(own) if re.search("rank", k, re.I)]

    @pytest.mark.parametrize("caller", ["anonymous", "another-team"])
    async def test_no_grpc_method_gives_away_a_teams_figures(
        self, scoring: Scoring, published: Published, caller: str
    ) -> None:
        service = scoring_pb2.DESCRIPTOR.services_by_name["ScoringService"]
        metadata = (
            ()
            if caller == "anonymous"
            else (("authorization", scoring.as_team(published.intruder)["Authorization"]),)
        )
        async with grpc.aio.insecure_channel(f"127.0.0.1:{scoring.grpc_port}") as channel:
            stub = scoring_pb2_grpc.ScoringServiceStub(channel)
            for method in service.methods:
                request_class = getattr(scoring_pb2, method.input_type.name)
                fields = {}
                for field in method.input_type.fields:
                    assert field.name in published.paths, (
                        f"{method.name}: add a value for field {field.name!r}"
                    )
                    fields[field.name] = published.paths[field.name]
                answer = await call(getattr(stub, method.name), request_class(**fields), metadata)
                if isinstance(answer, grpc.StatusCode):
                    assert answer in REFUSALS, f"{method.name}: {answer}"
                    continue
                payload = json_format.MessageToDict(answer, preserving_proto_field_name=True)
                assert_nothing_confidential(f"{caller} rpc {method.name}", payload, published.secrets)

    async def test_the_public_topic_carries_names_outcomes_and_reasons_only(
        self, scoring: Scoring, published: Published
    ) -> None:
        events = await stage_events(
            scoring, Topic.PUBLIC, published.world, {"fmc.scoring.stage-result-announced.v1"}
        )
        announced = events["fmc.scoring.stage-result-announced.v1"]
        assert_nothing_confidential("public topic", announced, published.secrets)
        assert {frozenset(t) for t in announced["teams"]} == {
            frozenset({"team_id", "team_name", "outcome", "reason_category"})
        }
        assert json.dumps(announced).count("advanced") == 3
