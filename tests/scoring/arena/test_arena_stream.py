"""The voter's streamed battle, relayed by scoring from the real gateway and Triton: both answers'
pieces, the stored battle equal to them and open to the vote, refusals before the stream, no identity."""

from __future__ import annotations

import uuid

import pytest

from fmc_common.arena_stream import BattleDone, BattleFailed, BattleText, parse_battle_event
from fmc_devrunner.triton import TritonProcess
from fmc_scoring.arena.models import Battle
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
