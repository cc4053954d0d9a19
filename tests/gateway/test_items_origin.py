"""A run's items come only from where the gateway is configured to fetch them, and its items token
goes nowhere else: a reference to another host, port or path (or a tricky spelling of one) is refused
at the edge, REST and event alike, and a real server at that address receives no request."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from aiokafka import ConsumerRecord

from fmc_common.auth import Role
from fmc_common.events.inference import (
    DecodingParameters,
    GpuPool,
    InferenceRunRequested,
    ItemsSource,
    RunEndpoint,
    SuiteReference,
)
from fmc_common.events.topics import Topic
from fmc_common.settings import AuthSettings, KafkaSettings
from fmc_devrunner.triton import TritonProcess
from fmc_gateway.runs.items import ItemsInvalid, ItemsPolicy, fetch_items
from fmc_gateway.runs.sources import ItemsSources
from gateway.conftest import SettingsFactory
from gateway.helpers import SUITE_HASH, finished, run_body, wait_for_run
from support.databases import DatabaseFactory
from support.kafka import envelope_bytes, first_record, produce_raw
from support.origin import Answer, Origin, recording_origin
from support.services import bearer

TOKEN = "items-token-for-scoring-only"


@pytest.fixture
async def allowed() -> AsyncIterator[Origin]:
    """The items server the gateway is configured with (its base is ``/items/``)."""
    async with recording_origin() as origin:
        yield origin


@pytest.fixture
async def other() -> AsyncIterator[Origin]:
    """A server somewhere else: it must never hear from the gateway."""
    async with recording_origin() as origin:
        yield origin


def elsewhere(allowed: Origin, other: Origin) -> list[str]:
    """References that lead away from ``<allowed>/items/``, plainly or in disguise."""
    a, o = allowed.port, other.port
    return [
        f"{other.base}/items/run.jsonl",  # another port
        f"http://localhost:{a}/items/run.jsonl",  # another host name for the same address
        f"https://127.0.0.1:{a}/items/run.jsonl",  # another scheme
        f"{allowed.base}/private/run.jsonl",  # another path
        f"{allowed.base}/itemsx/run.jsonl",  # not a whole segment
        f"{allowed.base}/items/../private/run.jsonl",
        f"{allowed.base}/items/%2e%2e/private/run.jsonl",
        f"{allowed.base}/items/%252e%252e/private/run.jsonl",
        f"{allowed.base}/items/..%5cprivate",
        f"http://127.0.0.1:{a}@127.0.0.1:{o}/items/run.jsonl",  # userinfo: the host is the other one
        f"http://127.0.0.1:{a}\\@127.0.0.1:{o}/items/run.jsonl",
        "file:///etc/passwd",
    ]


def items_document(count: int) -> tuple[bytes, str]:
    lines = [
        json.dumps({"item_id": f"item-{i}", "prompt": f"Question: what follows {i}"}) for i in range(count)
    ]
    raw = ("\n".join(lines) + "\n").encode()
    return raw, hashlib.sha256(raw).hexdigest()


def policy(allowed: Origin, directory: Path | None = None) -> ItemsPolicy:
    sources = ItemsSources([f"{allowed.base}/items/"], directory)
    return ItemsPolicy(token=lambda: TOKEN, sources=sources, max_bytes=1_000_000, timeout=5.0)


class TestFetchItems:
    """The second guard: whatever reached the store, ``fetch_items`` refuses before anything leaves."""

    async def test_a_reference_elsewhere_is_refused_and_no_request_leaves(
        self, allowed: Origin, other: Origin
    ) -> None:
        for uri in elsewhere(allowed, other):
            with pytest.raises(ItemsInvalid, match="uri-not-allowed"):
                await fetch_items(uri, 1, None, policy(allowed))
        assert allowed.hits == []
        assert other.hits == []

    async def test_items_under_the_allowed_base_are_fetched_with_the_token(self, allowed: Origin) -> None:
        raw, sha256 = items_document(3)
        allowed.answers["/items/run.jsonl"] = Answer(200, raw)

        items = await fetch_items(f"{allowed.base}/items/run.jsonl", 3, sha256, policy(allowed))

        assert [item.item_id for item in items] == ["item-0", "item-1", "item-2"]
        [hit] = allowed.hits
        assert hit.headers["authorization"] == f"Bearer {TOKEN}"

    async def test_a_redirect_to_another_origin_is_not_followed(self, allowed: Origin, other: Origin) -> None:
        raw, _ = items_document(1)
        other.answers["/items/run.jsonl"] = Answer(200, raw)
        allowed.answers["/items/run.jsonl"] = Answer(
            302, headers={"Location": f"{other.base}/items/run.jsonl"}
        )

        with pytest.raises(ItemsInvalid, match="redirects are not followed"):
            await fetch_items(f"{allowed.base}/items/run.jsonl", 1, None, policy(allowed))

        assert len(allowed.hits) == 1
        assert other.hits == []

    async def test_a_link_inside_the_items_directory_to_a_file_outside_is_refused(
        self, tmp_path: Path
    ) -> None:
        outside = tmp_path / "secret.jsonl"
        outside.write_text('{"item_id": "q1", "prompt": "secret"}\n')
        (tmp_path / "items").mkdir()
        link = tmp_path / "items" / "run.jsonl"
        link.symlink_to(outside)
        sources = ItemsSources([], tmp_path / "items")
        with pytest.raises(ItemsInvalid, match="must be below"):
            await fetch_items(link.as_uri(), 1, None, ItemsPolicy(lambda: None, sources, 1_000_000, 5.0))


@pytest.mark.broker
@pytest.mark.triton
class TestRestRequest:
    async def test_a_run_whose_items_point_elsewhere_is_refused_with_422_and_no_request_leaves(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        gateway_factory: Callable[..., Any],
        triton: TritonProcess,
        auth_settings: AuthSettings,
        allowed: Origin,
        other: Origin,
        tmp_path: Path,
    ) -> None:
        gateway: httpx.AsyncClient = await gateway_factory(
            gateway_settings(
                await database_factory.create("gateway"),
                items_allowed_urls=[f"{allowed.base}/items/"],
            )
        )
        for uri in elsewhere(allowed, other):
            body = run_body(tmp_path / "unused.jsonl", 1, triton.grpc_url) | {
                "items": {"uri": uri, "item_count": 1}
            }
            response = await gateway.post("/v1/runs", json=body, headers=bearer(auth_settings, Role.SERVICE))

            assert response.status_code == 422, (uri, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == "uri-not-allowed", uri
            missing = await gateway.get(
                f"/v1/runs/{body['run_id']}", headers=bearer(auth_settings, Role.OPERATOR)
            )
            assert missing.status_code == 404  # nothing recorded, so nothing for the engine to fetch later

        # The engine polls every 50 ms: a run that slipped through would have been fetched by now.
        ok = await self._run_under_the_allowed_base(gateway, triton, auth_settings, allowed)
        assert ok["status"] == "completed"
        assert [hit.target for hit in allowed.hits] == ["/items/run.jsonl"]
        assert other.hits == []

    async def test_a_run_under_the_allowed_base_is_answered_and_only_it_gets_the_token(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        gateway_factory: Callable[..., Any],
        triton: TritonProcess,
        auth_settings: AuthSettings,
        allowed: Origin,
    ) -> None:
        gateway: httpx.AsyncClient = await gateway_factory(
            gateway_settings(
                await database_factory.create("gateway"),
                items_allowed_urls=[f"{allowed.base}/items/"],
            )
        )
        run = await self._run_under_the_allowed_base(gateway, triton, auth_settings, allowed)

        assert run["status"] == "completed", run
        assert run["answered"] == 5
        [hit] = allowed.hits
        assert hit.method == "GET"
        # A short-lived service token for scoring, signed with the gateway's own key.
        scheme, _, token = hit.headers["authorization"].partition(" ")
        assert scheme == "Bearer"
        claims = jwt.decode(token, options={"verify_signature": False})
        assert (claims["aud"], claims["role"]) == ("scoring", "service")

    async def test_without_a_configured_base_no_http_reference_is_accepted(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        gateway_factory: Callable[..., Any],
        triton: TritonProcess,
        auth_settings: AuthSettings,
        allowed: Origin,
        tmp_path: Path,
    ) -> None:
        gateway: httpx.AsyncClient = await gateway_factory(
            gateway_settings(await database_factory.create("gateway"))
        )
        body = run_body(tmp_path / "unused.jsonl", 1, triton.grpc_url) | {
            "items": {"uri": f"{allowed.base}/items/run.jsonl", "item_count": 1}
        }
        response = await gateway.post("/v1/runs", json=body, headers=bearer(auth_settings, Role.SERVICE))

        assert response.status_code == 422
        assert response.json()["code"] == "uri-not-allowed"
        assert allowed.hits == []

    @staticmethod
    async def _run_under_the_allowed_base(
        gateway: httpx.AsyncClient, triton: TritonProcess, auth: AuthSettings, allowed: Origin
    ) -> dict[str, Any]:
        raw, sha256 = items_document(5)
        allowed.answers["/items/run.jsonl"] = Answer(200, raw)
        body = run_body(Path("/unused"), 5, triton.grpc_url) | {
            "items": {"uri": f"{allowed.base}/items/run.jsonl", "item_count": 5, "sha256": sha256}
        }
        response = await gateway.post("/v1/runs", json=body, headers=bearer(auth, Role.SERVICE))
        assert response.status_code == 201, response.text
        return await wait_for_run(gateway, auth, body["run_id"], finished)


def run_requested(
    triton: TritonProcess, uri: str, count: int, sha256: str | None = None
) -> InferenceRunRequested:
    return InferenceRunRequested(
        run_id=uuid.uuid4(),
        stage_id=uuid.uuid4(),
        submission_id=uuid.uuid4(),
        team_id=uuid.uuid4(),
        endpoint=RunEndpoint(url=triton.grpc_url, model_name="demo-lm", gpu_pool=GpuPool.H100),
        suite=SuiteReference(suite_id="demo-en", version="1", content_hash=SUITE_HASH),
        items=ItemsSource(uri=uri, item_count=count, sha256=sha256),
        decoding=DecodingParameters(max_tokens=4),
        requested_at=datetime.now(UTC),
    )


def about(run_id: uuid.UUID) -> Callable[[ConsumerRecord[bytes, bytes]], bool]:
    return lambda record: str(run_id).encode() in (record.value or b"")


@pytest.mark.broker
@pytest.mark.triton
class TestRequestedEvent:
    async def test_an_event_whose_items_point_elsewhere_is_dead_lettered_and_no_request_leaves(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        gateway_factory: Callable[..., Any],
        triton: TritonProcess,
        auth_settings: AuthSettings,
        kafka_settings: KafkaSettings,
        allowed: Origin,
        other: Origin,
    ) -> None:
        gateway: httpx.AsyncClient = await gateway_factory(
            gateway_settings(
                await database_factory.create("gateway"),
                intake_enabled=True,
                items_allowed_urls=[f"{allowed.base}/items/"],
            )
        )
        bootstrap = kafka_settings.bootstrap_servers
        refused = run_requested(
            triton, f"http://127.0.0.1:{allowed.port}@127.0.0.1:{other.port}/items/run.jsonl", 1
        )
        raw, sha256 = items_document(5)
        allowed.answers["/items/run.jsonl"] = Answer(200, raw)
        accepted = run_requested(triton, f"{allowed.base}/items/run.jsonl", 5, sha256)
        # Same partition, refused one first: the consumer carries on past it.
        key = str(uuid.uuid4()).encode()
        await produce_raw(
            bootstrap, str(Topic.SCORING), [envelope_bytes(refused), envelope_bytes(accepted)], key=key
        )

        done = await wait_for_run(
            gateway, auth_settings, str(accepted.run_id), finished, timeout=90, missing_ok=True
        )
        letter = await first_record(bootstrap, str(Topic.GATEWAY_DLQ), about(refused.run_id))

        assert done["status"] == "completed"
        headers = {name: value.decode() for name, value in letter.headers}
        assert headers["fmc-dlq-reason"] == "handler-rejected"
        assert headers["fmc-dlq-error"].startswith("uri-not-allowed: ")
        assert headers["fmc-dlq-consumer"] == "inference-gateway.intake"
        missing = await gateway.get(
            f"/v1/runs/{refused.run_id}", headers=bearer(auth_settings, Role.OPERATOR)
        )
        assert missing.status_code == 404
        assert [hit.target for hit in allowed.hits] == ["/items/run.jsonl"]
        assert other.hits == []
