"""REST: /v1/pools (capacity, load and breaker states of this replica)."""

from __future__ import annotations

from fastapi import APIRouter

from fmc_common.auth import Role
from fmc_common.web.problems import problem_responses
from fmc_gateway.deps import CurrentActor, SettingsDep
from fmc_gateway.pools.schemas import EndpointStateOut, PoolOut, PoolsOut
from fmc_gateway.runs.deps import EngineDep
from fmc_gateway.runs.snapshot import PoolLoad, ReplicaLoad

router = APIRouter(prefix="/v1/pools", tags=["pools"])


@router.get("", response_model=PoolsOut, responses=problem_responses(401, 403), summary="GPU pools")
async def list_pools(actor: CurrentActor, engine: EngineDep, settings: SettingsDep) -> PoolsOut:
    """The GPU pools of this replica: capacity, requests in flight, queued items, and the circuit
    breaker of every endpoint it talks to (operators and services). Per-pool and per-endpoint rates
    and latency histograms are on `/metrics`."""
    actor.require(Role.OPERATOR, Role.SERVICE)
    load = engine.executor.snapshot() if engine.executor else ReplicaLoad()
    pools = []
    for pool, capacity in engine.pools.items():
        # A pool this replica has not started (runs disabled) is idle.
        used = load.pools.get(pool, PoolLoad(capacity))
        pools.append(
            PoolOut(
                name=pool,
                hardware_class=settings.pool_hardware.get(pool, pool),
                capacity=capacity,
                in_flight=used.in_flight,
                queued=used.queued,
                runs=used.runs,
            )
        )
    endpoints = [
        EndpointStateOut(
            endpoint=label,
            breaker=state.breaker,
            in_flight=state.in_flight,
            capacity=state.capacity,
            last_error=state.last_error,
            probe_in_seconds=state.probe_in,
        )
        for label, state in load.endpoints.items()
    ]
    return PoolsOut(
        replica=engine.replica, endpoint_capacity=settings.endpoint_capacity, pools=pools, endpoints=endpoints
    )
