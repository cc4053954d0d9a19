"""The arena's streamed battle, as the gateway sends it to scoring and scoring relays it to a voter.

NDJSON (``application/x-ndjson``), one event per line, in the order the models produce the text:

* ``{"type": "text", "side": "a", "text": "..."}``: the next piece of answer A (or B); the two
  sides interleave as their models produce them, and each side's pieces, concatenated, are its
  answer exactly as the battle stores it;
* ``{"type": "done", "battle_id": "..."}``: last, once both answers are complete and stored;
* ``{"type": "error", "status": 503, "code": "...", "title": "...", "detail": "..."}``: last,
  instead of ``done``, when one side failed; nothing is stored.

No event ever names a model, a submission or a team (docs/gateway.md "Streamed battles",
docs/scoring.md "Arena").
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

Side = Literal["a", "b"]


class BattleText(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: Literal["text"] = "text"
    side: Side
    text: str


class BattleDone(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: Literal["done"] = "done"
    battle_id: uuid.UUID


class BattleFailed(BaseModel):
    """The problem (RFC 9457 fields) that ended the stream; the battle is not stored."""

    model_config = ConfigDict(frozen=True)

    type: Literal["error"] = "error"
    status: int
    code: str
    title: str
    detail: str


BattleEvent = Annotated[BattleText | BattleDone | BattleFailed, Field(discriminator="type")]
BATTLE_EVENT: TypeAdapter[BattleText | BattleDone | BattleFailed] = TypeAdapter(BattleEvent)


def parse_battle_event(line: str | bytes) -> BattleText | BattleDone | BattleFailed:
    """One line of the stream; raises ``pydantic.ValidationError`` if it is not an event."""
    return BATTLE_EVENT.validate_json(line)
