"""Arena inference: two anonymised answers to one voter's prompt, with a per-voter rate limit.

The battle row is reserved (and the voter's recent battles counted) in one short transaction
before the models are asked, under a lock on the voter's row (``arena_voters``, on PostgreSQL;
SQLite's write lock besides), so a burst of requests cannot slip past the limit; no database
connection is held while the models answer. The answers come back whole (``start_battle``) or
streamed piece by piece (``BattleStream``); either way the battle keeps both full answers, and a
battle whose answers did not both come is deleted.

With explicit model control (``triton_model_control=explicit``) the pair's models are loaded through
the run's ``ModelLoader`` before the readiness check, lazily on the first battle, and held until the
battle ends (``ModelLoader.holding``): the sweep leaves a model alone while battles keep coming and
unloads it once none came for its idle time. A model that cannot be loaded refuses the battle with
503 ``arena-model-unavailable`` (its reason in the logs only).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Insert, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fmc_common.arena_stream import BattleDone, BattleFailed, BattleText, Side
from fmc_common.clock import Clock
from fmc_common.db import transaction
from fmc_common.errors import AppError, NotFound, Unavailable
from fmc_common.events.inference import DecodingParameters
from fmc_gateway.arena.models import ArenaBattle, ArenaVoter
from fmc_gateway.arena.schemas import BattleCreate, Contender
from fmc_gateway.endpoints import service as endpoints
from fmc_gateway.locking import begin_writing
from fmc_gateway.runs.loading import ModelLoader
from fmc_gateway.serving.prompts import TextSink
from fmc_gateway.triton.hosts import TritonHosts
from fmc_gateway.triton.inference import EndpointAddress, InferenceFailure, ModelClient
from fmc_gateway.triton.pods import TritonPods

log = logging.getLogger(__name__)


class VoterRateLimited(AppError):
    status = 429
    code = "voter-rate-limited"
    title = "This voter has reached the limit of battles for now"


class ArenaModelUnavailable(Unavailable):
    code = "arena-model-unavailable"
    title = "One of the models could not answer"


class BattleNotFound(NotFound):
    code = "battle-not-found"
    title = "No such battle"


def _address(contender: Contender) -> EndpointAddress:
    endpoint = contender.endpoint
    return EndpointAddress(
        endpoint.url, endpoint.protocol, endpoint.model_name, endpoint.model_version, endpoint.convention
    )


class ArenaModels:
    """One client per endpoint, made after a readiness check (which tells what inputs to send)."""

    def __init__(
        self,
        hosts: TritonHosts,
        readiness_timeout: float,
        pods: TritonPods | None = None,
        loader: ModelLoader | None = None,
    ) -> None:
        self._clients: dict[str, ModelClient] = {}
        self._pods = pods if pods is not None and pods.enabled else None
        self._hosts = hosts
        self._timeout = readiness_timeout
        self._loader = loader

    async def hold(self, contenders: list[Contender]) -> Callable[[], Awaitable[None]]:
        """Explicit model control: the contenders' models loaded and held until the returned release is
        awaited (nothing to do otherwise). A model that cannot be loaded: 503, nothing held."""
        stack = AsyncExitStack()
        if self._loader is None:
            return stack.aclose
        try:
            # Both at once, and both finished (held or failed) before going on: nothing held is lost.
            outcomes = await asyncio.gather(
                *(stack.enter_async_context(self._loader.holding(c.endpoint)) for c in contenders),
                return_exceptions=True,
            )
        except BaseException:
            await stack.aclose()
            raise
        failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        if failures:
            await stack.aclose()
            if not all(isinstance(failure, Exception) for failure in failures):
                raise failures[0]
            # The reason names the model: it stays in the logs, never in the voter's answer.
            log.warning("an arena model could not be loaded", extra={"errors": [repr(f) for f in failures]})
            raise ArenaModelUnavailable(
                "one of the models could not be loaded; try again later"
            ) from failures[0]
        return stack.aclose

    def check(self, contenders: list[Contender]) -> None:
        """Refuse the battle if any contender is on none of the configured Triton servers (422)."""
        for contender in contenders:
            self._hosts.check(contender.endpoint.url)

    async def client(self, address: EndpointAddress, decoding: DecodingParameters) -> ModelClient:
        self._hosts.check(address.url)
        found = self._clients.get(address.label)
        if found is not None:
            return found
        readiness = await endpoints.check(self._hosts, address, decoding, self._timeout)
        if not readiness.ok:
            # The reason names the model: it stays in the logs, never in the voter's answer.
            raise ArenaModelUnavailable("one of the models could not answer; try again later")
        client = self._clients[address.label] = ModelClient(
            address, readiness.datatypes, readiness.batched, self._pods
        )
        return client

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()


async def _hold_voter(session: AsyncSession, voter_id: str, now: datetime) -> None:
    """Lock the voter's row until the transaction ends (an upsert: the first battle creates it), so
    that concurrent reservations of one voter count their recent battles one after the other."""
    row = {"voter_id": voter_id, "last_reserved_at": now}
    if session.get_bind().dialect.name == "postgresql":
        pg = postgresql.insert(ArenaVoter).values(row)
        upsert: Insert = pg.on_conflict_do_update(index_elements=["voter_id"], set_={"last_reserved_at": now})
    else:
        lite = sqlite.insert(ArenaVoter).values(row)
        upsert = lite.on_conflict_do_update(index_elements=["voter_id"], set_={"last_reserved_at": now})
    await session.execute(upsert)


async def _reserve(
    session: AsyncSession, clock: Clock, body: BattleCreate, pair: list[Contender], limit: int, window: float
) -> uuid.UUID:
    await begin_writing(session)
    now = clock.now()
    await _hold_voter(session, body.voter_id, now)
    since = now - timedelta(seconds=window)
    recent = await session.scalar(
        select(func.count())
        .select_from(ArenaBattle)
        .where(ArenaBattle.voter_id == body.voter_id, ArenaBattle.created_at > since)
    )
    if (recent or 0) >= limit:
        oldest = await session.scalar(
            select(func.min(ArenaBattle.created_at)).where(
                ArenaBattle.voter_id == body.voter_id, ArenaBattle.created_at > since
            )
        )
        retry = (oldest + timedelta(seconds=window) - now).total_seconds() if oldest else window
        raise VoterRateLimited(
            f"at most {limit} battles per {int(window)} s per voter", retry_after_seconds=max(1, round(retry))
        )
    battle = ArenaBattle(
        id=uuid.uuid4(),
        stage_id=body.stage_id,
        voter_id=body.voter_id,
        prompt=body.prompt,
        decoding=body.decoding.model_dump(mode="json"),
        a_submission_id=pair[0].submission_id,
        b_submission_id=pair[1].submission_id,
        a_text="",
        b_text="",
        created_at=now,
    )
    session.add(battle)
    await session.flush()
    return battle.id


@dataclass(frozen=True)
class OpenedBattle:
    """A battle reserved (the voter's limit counted) with both models ready to answer."""

    battle_id: uuid.UUID
    prompt: str
    decoding: DecodingParameters
    clients: tuple[ModelClient, ModelClient]
    """Answering as A and as B."""
    release: Callable[[], Awaitable[None]]
    """Ends the hold on the two models (explicit model control); awaited once the battle is over."""


async def open_battle(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    models: ArenaModels,
    body: BattleCreate,
    *,
    limit: int,
    window: float,
) -> OpenedBattle:
    """Everything that may refuse a battle, before any answer is asked for (or streamed)."""
    # Every contender, not only the pair drawn: a refused battle costs the voter nothing.
    models.check(body.contenders)
    pair = secrets.SystemRandom().sample(body.contenders, 2)
    async with transaction(sessions) as session:
        battle_id = await _reserve(session, clock, body, pair, limit, window)
    decoding = DecodingParameters.model_validate(body.decoding.model_dump())
    try:
        release = await models.hold(pair)
    except BaseException:
        await _forget(sessions, battle_id)
        raise
    try:
        a, b = await asyncio.gather(*(models.client(_address(c), decoding) for c in pair))
    except BaseException:
        await release()
        await _forget(sessions, battle_id)
        raise
    return OpenedBattle(battle_id, body.prompt, decoding, (a, b), release)


async def _answer(
    client: ModelClient, battle: OpenedBattle, timeout: float, on_text: TextSink | None = None
) -> str:
    try:
        return (await client.infer(battle.prompt, battle.decoding, timeout, on_text)).text
    except InferenceFailure as exc:
        raise ArenaModelUnavailable("one of the models could not answer; try again later") from exc


async def _forget(sessions: async_sessionmaker[AsyncSession], battle_id: uuid.UUID) -> None:
    """Drop a reservation whose answers did not both come: nothing of the battle stays."""
    async with transaction(sessions) as session:
        await session.execute(delete(ArenaBattle).where(ArenaBattle.id == battle_id))


async def _store(
    sessions: async_sessionmaker[AsyncSession], battle_id: uuid.UUID, a: str, b: str
) -> ArenaBattle:
    async with transaction(sessions) as session:
        battle = await session.get(ArenaBattle, battle_id)
        assert battle is not None
        battle.a_text, battle.b_text = a, b
    return battle


async def start_battle(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    models: ArenaModels,
    body: BattleCreate,
    *,
    limit: int,
    window: float,
    timeout: float,
) -> ArenaBattle:
    battle = await open_battle(sessions, clock, models, body, limit=limit, window=window)
    try:
        a, b = await asyncio.gather(*(_answer(client, battle, timeout) for client in battle.clients))
    except BaseException:
        await _forget(sessions, battle.battle_id)
        raise
    finally:
        await battle.release()
    return await _store(sessions, battle.battle_id, a, b)


@dataclass(frozen=True)
class _Finished:
    side: Side
    text: str


@dataclass(frozen=True)
class _Failed:
    error: AppError


class BattleStream:
    """Both answers of an opened battle, streamed piece by piece as the models produce them.

    Each side is answered in its own task, which puts its pieces on one queue; ``events`` reads the
    queue, so the sides interleave in the order the pieces came. The battle is stored once both
    answers are complete; a failed side ends the stream with an error event and nothing stored.
    ``close`` (awaited by the response however the stream ends: done, failed, client gone) stops
    the tasks and drops the reservation unless the battle was stored.
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], battle: OpenedBattle, timeout: float
    ) -> None:
        self._sessions = sessions
        self._battle = battle
        self._timeout = timeout
        self._queue: asyncio.Queue[BattleText | _Finished | _Failed] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._stored = False
        self._closed = False

    async def events(self) -> AsyncIterator[BattleText | BattleDone | BattleFailed]:
        sides: tuple[Side, Side] = ("a", "b")
        self._tasks = [
            asyncio.create_task(self._side(side, client), name=f"arena-{self._battle.battle_id}-{side}")
            for side, client in zip(sides, self._battle.clients, strict=True)
        ]
        answers: dict[Side, str] = {}
        while len(answers) < len(sides):
            event = await self._queue.get()
            if isinstance(event, _Failed):
                # The other side stopped and the reservation dropped before the caller sees the
                # end of the stream: when it reads the error, nothing of the battle is stored.
                await self.close()
                yield _failed(event.error)
                return
            if isinstance(event, _Finished):
                answers[event.side] = event.text
            else:
                yield event
        await _store(self._sessions, self._battle.battle_id, answers["a"], answers["b"])
        self._stored = True
        yield BattleDone(battle_id=self._battle.battle_id)

    async def _side(self, side: Side, client: ModelClient) -> None:
        def piece(text: str) -> None:
            if text:
                self._queue.put_nowait(BattleText(side=side, text=text))

        try:
            text = await _answer(client, self._battle, self._timeout, piece)
        except AppError as error:
            self._queue.put_nowait(_Failed(error))
        except Exception:
            log.exception("an arena answer failed unexpectedly")
            self._queue.put_nowait(_Failed(ArenaModelUnavailable("one of the models could not answer")))
        else:
            self._queue.put_nowait(_Finished(side, text))

    async def close(self) -> None:
        """Stop what is still answering; forget the battle unless it was stored. Idempotent: marked
        closed only once done, so a close interrupted (the caller gone) is completed by the next."""
        if self._closed:
            return
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            if not self._stored:
                await _forget(self._sessions, self._battle.battle_id)
        finally:
            await self._battle.release()
        self._closed = True


def _failed(error: AppError) -> BattleFailed:
    return BattleFailed(status=error.status, code=error.code, title=error.title, detail=error.detail)


async def get_battle(session: AsyncSession, battle_id: uuid.UUID) -> ArenaBattle:
    battle = await session.get(ArenaBattle, battle_id)
    if battle is None:
        raise BattleNotFound(f"no battle with id {battle_id}")
    return battle
