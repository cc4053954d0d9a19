"""The arena's model clients, for endpoints (registered by ``main.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from fmc_common.web.deps import component
from fmc_gateway.arena.service import ArenaModels

ArenaModelsDep = Annotated[ArenaModels, Depends(component(ArenaModels))]
