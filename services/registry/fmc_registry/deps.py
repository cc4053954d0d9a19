"""The registry's request context and its dependency aliases (fmc_common.web.context, once).

``RegistryCtx`` is what every service function takes: the transaction, the outbox, the clock, the
caller and the registry's settings. Endpoints declare ``ActorCtx`` (any authenticated caller; the
endpoint checks the role), ``OperatorCtx`` (operators only) or ``AnyoneCtx`` (anonymous allowed);
consumers and gRPC calls build one with ``context_for``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from fmc_common.web.context import Ctx, PublicCtx, context_dependencies, service_actor
from fmc_registry.settings import RegistrySettings

__all__ = ["ActorCtx", "AnyoneCtx", "OperatorCtx", "RegistryCtx", "service_actor"]

RegistryCtx = Ctx[RegistrySettings]

_ctx = context_dependencies(RegistrySettings)
ActorCtx = Annotated[RegistryCtx, Depends(_ctx.actor, scope="function")]
OperatorCtx = Annotated[RegistryCtx, Depends(_ctx.operator, scope="function")]
AnyoneCtx = Annotated[PublicCtx[RegistrySettings], Depends(_ctx.anyone, scope="function")]
