"""The scoring edge's typed dependencies, declared once: the unit of work and the settings.

Endpoints take ``ActorCtx``/``OperatorCtx``/``AnyoneCtx`` (whose ``settings`` are the service's),
or ``SettingsDep`` when they need no unit of work; services take a ``ScoringCtx``. Objects the
composition root registers with ``runtime.provide`` are injected next to their endpoints with
``fmc_common.web.deps.component`` (this module sits below every domain package, so it names none).
"""

from __future__ import annotations

from typing import Annotated, TypeAlias

from fastapi import Depends

from fmc_common.web.context import Ctx, PublicCtx, context_dependencies
from fmc_common.web.deps import settings_of
from fmc_scoring.settings import ScoringSettings

ScoringCtx: TypeAlias = Ctx[ScoringSettings]

_ctx = context_dependencies(ScoringSettings)

# Any authenticated caller (the endpoint checks the role it needs), operators only, or anyone.
ActorCtx = Annotated[ScoringCtx, Depends(_ctx.actor, scope="function")]
OperatorCtx = Annotated[ScoringCtx, Depends(_ctx.operator, scope="function")]
AnyoneCtx = Annotated[PublicCtx[ScoringSettings], Depends(_ctx.anyone, scope="function")]
SettingsDep = Annotated[ScoringSettings, Depends(settings_of(ScoringSettings))]
