from __future__ import annotations

from pydantic import BaseModel, Field


class PoolOut(BaseModel):
    name: str = Field(description="H100 or B200")
    hardware_class: str
    capacity: int = Field(description="requests in flight allowed on this replica")
    in_flight: int
    queued: int = Field(description="items in hand waiting for a slot")
    runs: int = Field(description="runs with items queued on this replica")


class EndpointStateOut(BaseModel):
    endpoint: str = Field(description="model:version@protocol://host:port")
    breaker: str = Field(description="closed, open or half-open")
    in_flight: int
    capacity: int
    last_error: str | None
    probe_in_seconds: float = Field(description="when an open circuit sends its next probe")


class PoolsOut(BaseModel):
    replica: str
    endpoint_capacity: int
    pools: list[PoolOut]
    endpoints: list[EndpointStateOut]
