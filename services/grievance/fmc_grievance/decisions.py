"""What a team may object to: a decision, by kind and id (notifications and objections both name one)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel

from fmc_common.events.grievance import DecisionKind
from fmc_common.inputs import Input


class DecisionRef(BaseModel):
    """The decision objected to: a stage's result (id = stage id) or a selection decision (id = call id)."""

    kind: DecisionKind
    id: uuid.UUID


class DecisionRefIn(Input, DecisionRef):
    pass
