"""REST: /v1/pools (capacity, load and breaker states of this replica)."""

from __future__ import annotations

from fastapi import APIRouter

from fmc_common.auth import Role
from fmc_common.web.problems import problem_responses
from fmc_gateway.deps import CurrentActor, SettingsDep
from fmc_gateway.pools.schemas import EndpointStateOut, PoolOut, PoolsOut
from fmc_gateway.runs.deps import EngineDep

router = APIRouter(prefix="/v1/pools", tags=["pools"])


@router.get("", response_model=PoolsOut, responses=problem_responses(401, 403), summary="GPU pools")
async def list_pools(actor: CurrentActor, engine: EngineDep, settings: SettingsDep) -> PoolsOut:
    """The GPU pools of this replica: capacity, requests in flight, queued items, and the circuit
    breaker of every endpoint it talks to (operators and services). Per-pool and per-endpoint rates
    and latency histograms are on `/metrics`."""
    actor.require(Role.OPERATOR, Role.SERVICE)
    snapshot = engine.executor.snapshot() if engine.executor else {"pools": {}, "endpoints": {}}
    pools = [
        PoolOut(
            name=pool.value,
            hardware_class=settings.pool_hardware.get(pool, pool.value),
            capacity=capacity,
            in_flight=snapshot["pools"].get(pool.value, {}).get("in_flight", 0),
            queued=snapshot["pools"].get(pool.value, {}).get("queued", 0),
            runs=snapshot["pools"].get(pool.value, {}).get("runs", 0),
        )
        for pool, capacity in engine.pools.items()
    ]
    endpoints = [
        EndpointStateOut(
            endpoint=label,
            breaker=state["breaker"],
            in_flight=state["in_flight"],
            capacity=state["capacity"],
            last_error=state["last_error"],
            probe_in_seconds=state["probe_in"],
        )
        for label, state in snapshot["endpoints"].items()
    ]
    return PoolsOut(
        replica=engine.replica, endpoint_capacity=settings.endpoint_capacity, pools=pools, endpoints=endpoints
    )
