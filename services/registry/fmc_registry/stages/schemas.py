from __future__ import annotations

from fmc_common.inputs import Input, Reason
from fmc_registry.lifecycle import StageStatus


class StageTransition(Input):
    to: StageStatus
    reason: Reason | None = None
