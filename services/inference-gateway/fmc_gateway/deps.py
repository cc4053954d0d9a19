"""The gateway's dependencies for endpoints: typed ``Annotated`` aliases, nothing read from ``app.state``.

Every object an endpoint needs is built once by the composition root (``main.py``) and registered
with ``runtime.provide``. The aliases for objects owned by a domain live beside that domain
(``runs/deps.py``: the engine; ``arena/deps.py``: the arena's model clients): declaring them here
would make this module import the packages whose endpoints import it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from fmc_common.web.deps import CurrentActor, OperatorOnly, RuntimeDep, SessionDep, settings_of
from fmc_gateway.settings import GatewaySettings

SettingsDep = Annotated[GatewaySettings, Depends(settings_of(GatewaySettings))]

__all__ = ["CurrentActor", "OperatorOnly", "RuntimeDep", "SessionDep", "SettingsDep"]
