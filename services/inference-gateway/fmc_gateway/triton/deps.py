"""The configured Triton servers, for endpoints (registered by ``main.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from fmc_common.web.deps import component
from fmc_gateway.triton.hosts import TritonHosts

TritonHostsDep = Annotated[TritonHosts, Depends(component(TritonHosts))]
