"""Small factories driving the registry's REST API, and a reader for the events it publishes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import ConsumerRecord

from registry.harness import Registry, created, unique
from support.kafka import first_record

STAGE_DATES = {
    "evaluation_starts_at": "2025-12-01T00:00:00+09:00",
    "evaluation_ends_at": "2025-12-31T00:00:00+09:00",
    "notification_at": "2026-01-15T10:00:00+09:00",
    "objection_days": 9,  # not the default, so that passing it on shows
}


@dataclass
class World:
    programme_id: uuid.UUID
    stage_ids: dict[int, uuid.UUID] = field(default_factory=dict)
    team_ids: list[uuid.UUID] = field(default_factory=list)


async def programme(registry: Registry, *, stages: tuple[int, ...] = (4, 3), budget: int = 10**12) -> World:
    """A programme whose stage n plans ``stages[n-1]`` advancing teams."""
    headers = registry.operator()
    body = {"name": unique("Programme"), "budget_won": budget}
    world = World(
        uuid.UUID(
            (await created(await registry.client.post("/v1/programmes", json=body, headers=headers)))["id"]
        )
    )
    for number, planned in enumerate(stages, start=1):
        stage = {"number": number, "name": f"Stage {number}", "planned_advancing": planned} | STAGE_DATES
        response = await registry.client.post(
            f"/v1/programmes/{world.programme_id}/stages", json=stage, headers=headers
        )
        world.stage_ids[number] = uuid.UUID((await created(response))["id"])
    return world


async def team(registry: Registry, world: World, *, selected: bool = True, **extra: Any) -> uuid.UUID:
    body = {
        "name": unique("Consortium"),
        "lead_organisation": unique("Lead"),
        "programme_id": str(world.programme_id),
    }
    response = await registry.client.post("/v1/teams", json=body | extra, headers=registry.operator())
    team_id = uuid.UUID((await created(response))["id"])
    if selected:
        await set_status(registry, team_id, "selected")
    world.team_ids.append(team_id)
    return team_id


async def set_status(registry: Registry, team_id: uuid.UUID, to: str, **extra: Any) -> dict[str, Any]:
    body = {"to": to, "reason": f"test moves the team to {to}"} | extra
    return await created(
        await registry.client.post(f"/v1/teams/{team_id}/status", json=body, headers=registry.operator())
    )


async def stage_to(registry: Registry, stage_id: uuid.UUID, to: str) -> dict[str, Any]:
    body = {"to": to, "reason": "test"}
    return await created(
        await registry.client.post(f"/v1/stages/{stage_id}/status", json=body, headers=registry.operator())
    )


def submission_body(
    *, version: str = "1", shards: int = 2, url: str = "http://triton.team.svc:8000"
) -> dict[str, Any]:
    files = [
        {
            "path": f"model-{i:05d}-of-{shards:05d}.safetensors",
            "sha256": f"{i:064x}",
            "size_bytes": 4_000_000_000,
        }
        for i in range(1, shards + 1)
    ]
    manifest: dict[str, Any] = {
        "files": files,
        "architecture": {"family": "decoder-only transformer", "parameters": 32_000_000_000, "layers": 64},
        "declared_base": {
            "kind": "from-scratch",
            "components": [{"name": "transformer", "kind": "architecture", "source": "Vaswani et al. 2017"}],
        },
    }
    if shards > 1:
        index = "model.safetensors.index.json"
        files.append({"path": index, "sha256": "f" * 64, "size_bytes": 30_000})
        manifest["index"] = {
            "path": index,
            "weight_map": {f"layers.{i}.weight": files[i - 1]["path"] for i in range(1, shards + 1)},
        }
    return {
        "endpoint": {
            "url": url,
            "model_name": "foundation",
            "model_version": version,
            "protocol": "http",
            "gpu_pool": "B200",
        },
        "manifest": manifest,
        "model_card": {
            "description": "A Korean-English foundation model.",
            "languages": ["ko", "en"],
            "licence": "proprietary",
            "intended_use": "General assistant",
            "limitations": "Not for medical advice",
            "training_data": "Licensed Korean corpora",
        },
    }


def _json_object(value: bytes | None) -> dict[str, Any] | None:
    try:
        decoded = json.loads(value or b"{}")
    except ValueError:
        return None
    return decoded if isinstance(decoded, dict) else None


def _is_event(event_type: str, match: dict[str, str]) -> Callable[[ConsumerRecord[bytes, bytes]], bool]:
    def matches(record: ConsumerRecord[bytes, bytes]) -> bool:
        envelope = _json_object(record.value)
        if envelope is None:
            return False  # other tests put raw bytes on shared topics (dead letters of non-envelopes)
        data = envelope.get("data", {})
        return envelope.get("type") == event_type and all(data.get(k) == v for k, v in match.items())

    return matches


async def find_event(
    bootstrap: str, topic: str, event_type: str, match: dict[str, str], *, timeout: float = 30.0
) -> dict[str, Any]:
    """The first envelope of ``event_type`` on ``topic`` whose data fields equal ``match``."""
    record = await first_record(bootstrap, topic, _is_event(event_type, match), timeout=timeout)
    envelope = _json_object(record.value)
    assert envelope is not None
    return envelope
