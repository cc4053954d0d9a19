"""Teams' arena standings from counted votes (pure): Bradley-Terry ratings, intervals, ranks, and
each team's expected chance of beating another rated team (the user part of the composite)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from fmc_scoring.arena import bradley_terry as bt


class DiscardReason(StrEnum):
    """Why a vote is kept but not counted: the rule that discarded it (arena/identity.py)."""

    SELF_IDENTIFICATION = "self-identification"  # an answer names its own team, maker or model
    PROMPT_IDENTIFICATION = "prompt-identification"  # the prompt names one of the two contenders


class ExclusionCategory(StrEnum):
    """The hygiene reasons an operator may exclude votes for (with a stated reason in words)."""

    VOTE_STUFFING = "vote-stuffing"
    AUTOMATED_VOTING = "automated-voting"
    COORDINATED_VOTING = "coordinated-voting"
    OTHER = "other"


class Choice(StrEnum):
    A = "a"
    B = "b"
    TIE = "tie"
    BOTH_BAD = "both-bad"


OUTCOME = {Choice.A: bt.A_WINS, Choice.B: bt.B_WINS, Choice.TIE: bt.TIE, Choice.BOTH_BAD: bt.TIE}


@dataclass(frozen=True)
class CountedVote:
    a_team: uuid.UUID
    b_team: uuid.UUID
    choice: Choice


@dataclass(frozen=True)
class Standing:
    team_id: uuid.UUID
    rating: float
    lower: float
    upper: float
    rank: int
    win_rate: float
    votes: int


@dataclass(frozen=True)
class Standings:
    teams: dict[uuid.UUID, Standing]
    votes: int
    converged: bool
    rounds: int
    seed: int


def standings(votes: Sequence[CountedVote], *, rounds: int = 1000, seed: int = 0) -> Standings:
    """Ratings of the teams that appear in the votes (teams without votes have no standing)."""
    if not votes:
        return Standings({}, 0, True, rounds, seed)
    teams = sorted({v.a_team for v in votes} | {v.b_team for v in votes}, key=str)
    index = {team: i for i, team in enumerate(teams)}
    a = np.array([index[v.a_team] for v in votes], dtype=np.int64)
    b = np.array([index[v.b_team] for v in votes], dtype=np.int64)
    outcome = np.array([OUTCOME[v.choice] for v in votes], dtype=np.int64)
    rated = bt.rate(bt.unique_rows(a, b, outcome, len(teams)), rounds=rounds, seed=seed)
    win_rate = bt.expected_win_rate(rated.rating)
    per_team = np.bincount(np.concatenate([a, b]), minlength=len(teams))
    return Standings(
        teams={
            team: Standing(
                team_id=team,
                rating=float(rated.rating[i]),
                lower=float(rated.lower[i]),
                upper=float(rated.upper[i]),
                rank=int(rated.rank[i]),
                win_rate=float(win_rate[i]),
                votes=int(per_team[i]),
            )
            for team, i in index.items()
        },
        votes=len(votes),
        converged=rated.converged,
        rounds=rounds,
        seed=seed,
    )
