"""Screening the vote records collected for the standings (pure).

A record the ratings cannot take is dropped with a stated reason instead of failing the whole
stage's standings: a battle with the same team on both sides (a self-battle: it says nothing about
either team), or a vote whose battle is missing. Every other record is passed on unchanged, in the
order given.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from fmc_scoring.arena.standings import Choice, Tally


class MalformedReason(StrEnum):
    SELF_BATTLE = "self-battle"
    MISSING_BATTLE = "missing-battle"


@dataclass(frozen=True)
class VoteRecord:
    """A vote as read for the standings; the teams are None when its battle is missing."""

    battle_id: uuid.UUID
    a_team: uuid.UUID | None
    b_team: uuid.UUID | None
    choice: Choice


@dataclass(frozen=True)
class Dropped:
    battle_id: uuid.UUID
    reason: MalformedReason


@dataclass(frozen=True)
class Screened:
    votes: Tally
    """The records the ratings take, aggregated (what ``standings.standings`` reads)."""
    vote_ids: list[uuid.UUID]
    dropped: list[Dropped]


def _teams(record: VoteRecord) -> tuple[uuid.UUID, uuid.UUID] | MalformedReason:
    if record.a_team is None or record.b_team is None:
        return MalformedReason.MISSING_BATTLE
    if record.a_team == record.b_team:
        return MalformedReason.SELF_BATTLE
    return record.a_team, record.b_team


def malformed(record: VoteRecord) -> MalformedReason | None:
    """Why the record cannot be rated, if it cannot."""
    teams = _teams(record)
    return teams if isinstance(teams, MalformedReason) else None


def screen(records: Iterable[VoteRecord]) -> Screened:
    """The records the ratings can take, tallied by (A team, B team, choice); the others dropped."""
    counts: Counter[tuple[uuid.UUID, uuid.UUID, Choice]] = Counter()
    vote_ids: list[uuid.UUID] = []
    dropped: list[Dropped] = []
    for record in records:
        teams = _teams(record)
        if isinstance(teams, MalformedReason):
            dropped.append(Dropped(record.battle_id, teams))
            continue
        counts[(*teams, record.choice)] += 1
        vote_ids.append(record.battle_id)
    return Screened(Tally(dict(counts)), vote_ids, dropped)
