from __future__ import annotations

import uuid

from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_scoring.arena.models import Battle, TeamAlias, Vote, VoteCount


async def counted_votes(session: AsyncSession, stage_id: uuid.UUID) -> list[tuple[Vote, Battle | None]]:
    """The votes not discarded and not excluded (the cut-off is applied by the caller), each with
    its battle: none for a vote whose battle is missing (a malformed record, screened out later)."""
    query = (
        select(Vote, Battle)
        .outerjoin(Battle, Battle.id == Vote.battle_id)
        .where(Vote.stage_id == stage_id, Vote.counted.is_(True), Vote.exclusion_id.is_(None))
        .order_by(Vote.battle_id)
    )
    return [(vote, battle) for vote, battle in (await session.execute(query)).all()]


async def votes(session: AsyncSession, stage_id: uuid.UUID, voter: str | None = None) -> list[Vote]:
    query = select(Vote).where(Vote.stage_id == stage_id)
    if voter is not None:
        query = query.where(Vote.voter == voter)
    return list(await session.scalars(query.order_by(Vote.voted_at, Vote.battle_id)))


async def counted_today(session: AsyncSession, voter: str, seoul_day: str) -> int:
    """The voter's counted votes that day, as the cap's counter holds them."""
    query = select(VoteCount.counted).where(VoteCount.voter == voter, VoteCount.seoul_day == seoul_day)
    return int(await session.scalar(query) or 0)


async def count_vote(session: AsyncSession, voter: str, seoul_day: str, cap: int) -> bool:
    """Raise the voter's counter for the day by one unless it is at the cap, in one statement.

    The upsert's ``WHERE`` is evaluated on the row as locked (PostgreSQL re-reads it after a
    concurrent writer commits; SQLite writes one transaction at a time), so of concurrent votes
    exactly those under the cap are counted. False: at the cap, nothing changed."""
    values = {"voter": voter, "seoul_day": seoul_day, "counted": 1}
    keys = ["voter", "seoul_day"]
    raised = {"counted": VoteCount.counted + 1}
    under = VoteCount.counted < cap
    if session.get_bind().dialect.name == "postgresql":
        pg = postgresql.insert(VoteCount).values(values)
        upsert: Insert = pg.on_conflict_do_update(index_elements=keys, set_=raised, where=under)
    else:
        lite = sqlite.insert(VoteCount).values(values)
        upsert = lite.on_conflict_do_update(index_elements=keys, set_=raised, where=under)
    return (await session.execute(upsert.returning(VoteCount.counted))).first() is not None


async def get_battle(session: AsyncSession, battle_id: uuid.UUID) -> Battle | None:
    return await session.get(Battle, battle_id)


async def get_vote(session: AsyncSession, battle_id: uuid.UUID) -> Vote | None:
    return await session.get(Vote, battle_id)


async def aliases(session: AsyncSession, team_id: uuid.UUID) -> list[TeamAlias]:
    query = select(TeamAlias).where(TeamAlias.team_id == team_id)
    return list(await session.scalars(query.order_by(TeamAlias.added_at, TeamAlias.id)))


async def alias_named(session: AsyncSession, team_id: uuid.UUID, normalised: str) -> TeamAlias | None:
    query = select(TeamAlias).where(TeamAlias.team_id == team_id, TeamAlias.normalised == normalised)
    return (await session.scalars(query)).first()
