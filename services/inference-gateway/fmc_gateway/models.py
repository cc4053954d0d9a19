"""Every table of the gateway, imported so that ``Base.metadata`` is complete (Alembic, tests)."""

from fmc_gateway.arena.models import ArenaBattle
from fmc_gateway.base import PLATFORM, Base
from fmc_gateway.endpoints.models import Endpoint
from fmc_gateway.runs.models import ItemRecord, Run, RunChunk, RunItem

__all__ = ["PLATFORM", "ArenaBattle", "Base", "Endpoint", "ItemRecord", "Run", "RunChunk", "RunItem"]
