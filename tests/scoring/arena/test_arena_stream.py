"""The voter's streamed battle, relayed by scoring from the real gateway and Triton: both answers'
pieces, the stored battle equal to them and open to the vote, refusals before the stream, no identity."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any, cast

import pytest

from fmc_common.arena_stream import BattleDone, BattleFailed, BattleText, parse_battle_event
from fmc_common.clock import SystemClock
from fmc_devrunner.triton import TritonProcess
from fmc_scoring.arena.gateway import ArenaGateway, GatewayStream
from fmc_scoring.arena.models import Battle
from fmc_scoring.arena.service import BattleRequest
from fmc_scoring.arena.streaming import BattleRelay
from scoring.arena.test_arena_api import TEAMS, arena_stage
from scoring.harness import Scoring, body, new_stage

pytestmark = [pytest.mark.broker, pytest.mark.triton]


async def stream(
    scoring: Scoring, stage_id: uuid.UUID, headers: dict[str, str], prompt: str
) -> tuple[int, list[BattleText | BattleDone | BattleFailed], str]:
    async with scoring.client.stream(
        "POST", f"/v1/stages/{stage_id}/arena/battles/stream", json={"prompt": prompt}, headers=headers
    ) as response:
        raw = (await response.aread()).decode()
    if response.status_code != 200:
        return response.status_code, [], raw
    return response.status_code, [parse_battle_event(line) for line in raw.splitlines() if line], raw


class TestStreamedBattle:
    async def test_a_voter_gets_both_answers_piece_by_piece_and_votes_on_the_stored_battle(
        self, scoring: Scoring, triton: TritonProcess
    ) -> None:
        world = await arena_stage(scoring, triton)
        status, events, raw = await stream(
            scoring, world.stage_id, scoring.as_evaluator("voter-yoon"), "Question: 부산의 명소는?"
        )

        assert status == 200
        pieces = [e for e in events if isinstance(e, BattleText)]
        assert {p.side for p in pieces} == {"a", "b"}
        done = events[-1]
        assert isinstance(done, BattleDone)
        async with scoring.ctx() as ctx:
            stored = await ctx.session.get(Battle, done.battle_id)
        assert stored is not None
        assert stored.voter == "voter-yoon"
        assert "".join(p.text for p in pieces if p.side == "a") == stored.a_text == "부산의 명소는?"
        assert "".join(p.text for p in pieces if p.side == "b") == stored.b_text
        for name in (*TEAMS, "demo-lm", *(str(s) for s in world.submissions.values())):
            assert name not in raw
        voted = await body(
            await scoring.client.post(
                f"/v1/arena/battles/{done.battle_id}/vote",
                json={"choice": "tie"},
                headers=scoring.as_evaluator("voter-yoon"),
            ),
            201,
        )
        assert {voted["a"]["team_name"], voted["b"]["team_name"]} == set(TEAMS)

    async def test_only_voters_stream_battles(self, scoring: Scoring, triton: TritonProcess) -> None:
        world = await arena_stage(scoring, triton)
        for headers, expected in (
            ({}, 401),
            (scoring.operator(), 403),
            (scoring.as_team(world.teams["Upstage"]), 403),
        ):
            status, events, _ = await stream(scoring, world.stage_id, headers, "Question: hi")
            assert (status, events) == (expected, [])

    async def test_a_stage_without_two_models_is_refused_before_the_stream(self, scoring: Scoring) -> None:
        world = await new_stage(scoring, TEAMS)
        status, events, raw = await stream(
            scoring, world.stage_id, scoring.as_evaluator("voter-han"), "Question: hi"
        )
        assert (status, events) == (409, [])
        assert '"arena-not-open"' in raw


class _Replayed(GatewayStream):
    """The gateway's stream as recorded events (the relay's logic alone; no gateway, no database)."""

    def __init__(self, events: Sequence[BattleText | BattleDone | BattleFailed]) -> None:
        self._events = events
        self.closed = False

    async def events(self) -> AsyncIterator[BattleText | BattleDone | BattleFailed]:
        for event in self._events:
            yield event

    async def close(self) -> None:
        self.closed = True


async def relayed(events: Sequence[BattleText | BattleDone | BattleFailed]) -> list[Any]:
    request = BattleRequest(uuid.uuid4(), "voter", "p", [], {}, {})
    gateway = cast(ArenaGateway, None)  # reached only on "done"
    relay = BattleRelay(gateway, _Replayed(events), request, cast(Any, None), SystemClock())
    return [event async for event in relay.events()]


class TestRelayedFailures:
    async def test_a_side_failing_at_the_gateway_reaches_the_voter_as_scorings_own_problem(self) -> None:
        gateway_error = BattleFailed(
            status=503,
            code="arena-model-unavailable",
            title="One of the models could not answer",
            detail="model 'team-x-secret-lm' at 10.0.0.7:8001 timed out",
        )
        out = await relayed([BattleText(side="a", text="Jup"), gateway_error])

        assert out[0] == BattleText(side="a", text="Jup")
        assert (out[1].type, out[1].status, out[1].code) == ("error", 503, "arena-unavailable")
        assert "secret" not in out[1].model_dump_json()
        assert len(out) == 2

    async def test_a_stream_that_ends_without_done_ends_with_an_error(self) -> None:
        out = await relayed([BattleText(side="b", text="x")])
        assert isinstance(out[-1], BattleFailed)
        assert out[-1].code == "arena-unavailable"
