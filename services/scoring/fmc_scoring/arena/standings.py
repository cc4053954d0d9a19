"""Teams' arena standings from counted votes (pure): Bradley-Terry ratings under the weak prior,
intervals, ranks, and each team's expected chance of beating another rated team at the lower bound
of its interval (the user part of the composite)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
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
class Tally:
    """Counted votes aggregated to how many times each (A team, B team, choice) occurred: all the
    ratings need, whatever the number of votes (the service streams votes into one)."""

    counts: Mapping[tuple[uuid.UUID, uuid.UUID, Choice], int]

    @property
    def votes(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Standing:
    team_id: uuid.UUID
    rating: float
    lower: float
    upper: float
    rank: int
    # The team's expected chance of beating another rated team, rated at the lower bound of its
    # interval (the others at their ratings): the user part of the composite (see results/decision).
    win_rate: float
    votes: int


@dataclass(frozen=True)
class Standings:
    teams: dict[uuid.UUID, Standing]
    votes: int
    converged: bool
    rounds: int
    seed: int
    prior_sd: float = bt.PRIOR_SD
    groups: int = 0  # groups of teams connected by votes; more than one: placed by the prior alone


def standings(tally: Tally, *, rounds: int = 1000, seed: int = 0, prior_sd: float = bt.PRIOR_SD) -> Standings:
    """Ratings of the teams that appear in the votes (teams without votes have no standing)."""
    counted = {key: n for key, n in tally.counts.items() if n > 0}
    if not counted:
        return Standings({}, 0, True, rounds, seed, prior_sd, 0)
    teams = sorted({a for a, _, _ in counted} | {b for _, b, _ in counted}, key=str)
    index = {team: i for i, team in enumerate(teams)}
    a = np.array([index[key[0]] for key in counted], dtype=np.int64)
    b = np.array([index[key[1]] for key in counted], dtype=np.int64)
    outcome = np.array([OUTCOME[key[2]] for key in counted], dtype=np.int64)
    n = np.array(list(counted.values()), dtype=np.int64)
    rows = bt.unique_rows(a, b, outcome, len(teams), counts=n)
    rated = bt.rate(rows, rounds=rounds, seed=seed, prior_sd=prior_sd)
    win_rate = bt.expected_win_rate(rated.rating, own=rated.lower)
    per_team = np.bincount(np.concatenate([a, b]), weights=np.concatenate([n, n]), minlength=len(teams))
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
        votes=rows.votes,
        converged=rated.converged,
        rounds=rounds,
        seed=seed,
        prior_sd=prior_sd,
        groups=rated.groups,
    )
