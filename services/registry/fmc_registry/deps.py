"""The registry's request context and its dependency aliases (fmc_common.web.context, once).

``RegistryCtx`` is what every service function takes: the transaction, the outbox, the clock, the
caller and the registry's settings. Endpoints declare ``ActorCtx`` (any authenticated caller; the
endpoint checks the role), ``OperatorCtx`` (operators only) or ``AnyoneCtx`` (anonymous allowed);
consumers and gRPC calls build one with ``context_of``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from fmc_common.web.context import Ctx, PublicCtx, context_dependencies, context_factory, service_actor
from fmc_registry.settings import RegistrySettings

__all__ = ["ActorCtx", "AnyoneCtx", "OperatorCtx", "RegistryCtx", "context_of", "service_actor"]

RegistryCtx = Ctx[RegistrySettings]
# A unit of work outside a request (gRPC calls, consumers).
context_of = context_factory(RegistrySettings)

_ctx = context_dependencies(RegistrySettings)
ActorCtx = Annotated[RegistryCtx, Depends(_ctx.actor, scope="function")]
OperatorCtx = Annotated[RegistryCtx, Depends(_ctx.operator, scope="function")]
AnyoneCtx = Annotated[PublicCtx[RegistrySettings], Depends(_ctx.anyone, scope="function")]
