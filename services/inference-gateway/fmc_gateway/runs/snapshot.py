"""What a replica is doing now: load per GPU pool and per endpoint (for /v1/pools)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fmc_common.events.inference import GpuPool
from fmc_gateway.runs.breaker import BreakerState


@dataclass(frozen=True)
class PoolLoad:
    capacity: int
    in_flight: int = 0
    queued: int = 0
    runs: int = 0


@dataclass(frozen=True)
class EndpointLoad:
    breaker: BreakerState
    in_flight: int
    capacity: int
    last_error: str | None
    probe_in: float
    """Seconds until an open circuit sends its next probe."""


@dataclass(frozen=True)
class ReplicaLoad:
    pools: dict[GpuPool, PoolLoad] = field(default_factory=dict)
    endpoints: dict[str, EndpointLoad] = field(default_factory=dict)
    """By endpoint label (``model:version@protocol://host:port``)."""
