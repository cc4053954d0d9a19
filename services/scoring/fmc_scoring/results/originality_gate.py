"""The originality gate, read from the originality package's checks through one narrow interface.

The latest completed check of a team in the stage decides: ``original`` passes, ``reused`` fails,
``needs-review``, ``not-comparable`` and ``unreadable`` are pending (a human looks before anyone is
accused or passed), no check yet is pending.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fmc_common.events.vocabulary import Verdict
from fmc_scoring.originality.models import CheckStatus, OriginalityCheck
from fmc_scoring.results.decision import GateState

_STATES = {
    Verdict.ORIGINAL: GateState.PASS,
    Verdict.REUSED: GateState.FAIL,
    Verdict.NEEDS_REVIEW: GateState.PENDING,
    # Nothing could be compared, or the files could not be read: a human looks; never a pass.
    Verdict.NOT_COMPARABLE: GateState.PENDING,
    Verdict.UNREADABLE: GateState.PENDING,
}


def gate_state(verdict: Verdict | None) -> GateState:
    """The gate a verdict gives (no verdict: pending)."""
    return GateState.PENDING if verdict is None else _STATES[verdict]


@dataclass(frozen=True)
class GateVerdict:
    state: GateState
    check_id: uuid.UUID | None
    verdict: Verdict | None


class OriginalityVerdicts(Protocol):
    async def verdicts(
        self, session: AsyncSession, stage_id: uuid.UUID, team_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, GateVerdict]: ...


class LatestCheckVerdicts:
    """Reads the originality checks table (owned by ``fmc_scoring.originality``), read-only."""

    async def verdicts(
        self, session: AsyncSession, stage_id: uuid.UUID, team_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, GateVerdict]:
        wanted = set(team_ids)
        rows = await session.scalars(
            select(OriginalityCheck)
            .where(OriginalityCheck.stage_id == stage_id, OriginalityCheck.status == CheckStatus.COMPLETED)
            .order_by(OriginalityCheck.created_at, OriginalityCheck.id)
        )
        latest: dict[uuid.UUID, OriginalityCheck] = {}
        for check in rows:
            if check.team_id in wanted:
                latest[check.team_id] = check  # ordered by time: the last one wins
        result = {}
        for team_id in wanted:
            found = latest.get(team_id)
            if found is None:
                result[team_id] = GateVerdict(GateState.PENDING, None, None)
            else:
                state = _STATES[found.verdict]
                result[team_id] = GateVerdict(state, found.id, found.verdict)
        return result
