"""The gateway's Kafka intake, composed here from the domains' handlers (runs, endpoints)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from fmc_common.events.inference import GpuPool, InferenceRunRequested, InferenceRunRequestedV2
from fmc_common.events.registry import SubmissionRegistered
from fmc_common.events.topics import Topic
from fmc_common.runtime import ConsumerSpec, ServiceRuntime
from fmc_gateway.endpoints.consumers import submission_registered
from fmc_gateway.runs.consumers import run_requested
from fmc_gateway.runs.sources import ItemsSources
from fmc_gateway.triton.hosts import TritonHosts


def intake(
    runtime: ServiceRuntime,
    hardware: Mapping[GpuPool, str],
    sources: ItemsSources,
    hosts: TritonHosts,
    notify: Callable[[], None],
) -> ConsumerSpec:
    """One consumer group for both topics: every group a replica joins costs a rebalance at start."""
    return ConsumerSpec(
        name="inference-gateway.intake",
        topics=[str(Topic.SCORING), str(Topic.REGISTRY)],
        handlers={
            # v2 only for a run whose convention v1 cannot say; the same handler for both.
            InferenceRunRequested: run_requested(runtime, hardware, sources, hosts, notify),
            InferenceRunRequestedV2: run_requested(runtime, hardware, sources, hosts, notify),
            SubmissionRegistered: submission_registered(runtime, hosts),
        },
    )
