"""The runs engine of this replica, for endpoints (registered by ``main.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from fmc_common.web.deps import component
from fmc_gateway.runs.engine import GatewayEngine

EngineDep = Annotated[GatewayEngine, Depends(component(GatewayEngine))]
