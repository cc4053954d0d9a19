"""A voter's battle streamed: the gateway's pieces relayed as they come, the battle stored at the end.

What the voter receives is rebuilt here from the gateway's events, field by field: a side and a
piece of text, then the battle's id, or the problem that ended it. Nothing else the gateway might
send passes (never a model, a submission, a team, a score or a rank). The battle is stored (with
who answered as A and B, asked of the gateway once both answers are complete) in its own
transaction before the ``done`` event: the request's own unit of work has committed by the time the
stream starts.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fmc_common.arena_stream import BattleDone, BattleFailed, BattleText
from fmc_common.clock import Clock
from fmc_common.db import transaction
from fmc_common.errors import AppError
from fmc_scoring.arena.gateway import ArenaGateway, ArenaUnavailable, GatewayBattle, GatewayStream
from fmc_scoring.arena.service import BattleRequest

log = logging.getLogger(__name__)


class BattleRelay:
    """The gateway's stream of one battle, relayed to the voter (``events``), closed by ``close``."""

    def __init__(
        self,
        gateway: ArenaGateway,
        stream: GatewayStream,
        request: BattleRequest,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
    ) -> None:
        self._gateway = gateway
        self._stream = stream
        self._request = request
        self._sessions = sessions
        self._clock = clock

    async def events(self) -> AsyncIterator[BattleText | BattleDone | BattleFailed]:
        texts: dict[str, list[str]] = {"a": [], "b": []}
        async for event in self._stream.events():
            if isinstance(event, BattleText):
                texts[event.side].append(event.text)
                yield BattleText(side=event.side, text=event.text)
            elif isinstance(event, BattleDone):
                yield await self._stored(event, "".join(texts["a"]), "".join(texts["b"]))
                return
            else:
                log.warning("the gateway ended a streamed battle: %s %s", event.code, event.detail)
                yield _failed(ArenaUnavailable("the models could not answer the battle; try again later"))
                return
        yield _failed(ArenaUnavailable("the gateway's stream ended before the battle was complete"))

    async def _stored(self, done: BattleDone, a_text: str, b_text: str) -> BattleDone | BattleFailed:
        try:
            a_submission, b_submission = await self._gateway.reveal(done.battle_id)
        except AppError as error:
            return _failed(error)
        answer = GatewayBattle(done.battle_id, a_text, b_text, a_submission, b_submission)
        async with transaction(self._sessions) as session:
            session.add(self._request.battle(answer, self._clock.now()))
        return BattleDone(battle_id=done.battle_id)

    async def close(self) -> None:
        await self._stream.close()


def _failed(error: AppError) -> BattleFailed:
    return BattleFailed(status=error.status, code=error.code, title=error.title, detail=error.detail)
