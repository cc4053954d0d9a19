"""Chat items end to end: a raw-text model on the real Triton receives every item rendered through the
run's chat template; chat items without a template fail only their own run; a template the gateway
does not have, or one for an OpenAI-compatible endpoint, is refused at the edge (REST and Kafka);
the gateway consumes the run request's v2 (a convention v1 cannot say)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from fmc_common.auth import Role
from fmc_common.events.inference import (
    DecodingParameters,
    GpuPool,
    InferenceProtocol,
    InferenceRunRequested,
    InferenceRunRequestedV2,
    ItemsSource,
    RunEndpoint,
    RunRequest,
    ServingConvention,
    SuiteReference,
)
from fmc_common.events.topics import Topic
from fmc_common.settings import AuthSettings, KafkaSettings
from fmc_devrunner.triton import TritonProcess
from gateway.conftest import SettingsFactory
from gateway.helpers import (
    SUITE_HASH,
    all_responses,
    finished,
    request_run,
    run_body,
    wait_for_run,
    write_items,
)
from support.databases import DatabaseFactory
from support.kafka import envelope_bytes, first_record, produce_raw
from support.services import bearer

pytestmark = [pytest.mark.broker, pytest.mark.triton]

CHAT_ITEMS: list[dict[str, Any]] = [
    {
        "item_id": "chat",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "name three colours"},
        ],
    },
    {"item_id": "plain", "prompt": "count to three"},
]


def write_lines(directory: Path, lines: list[dict[str, Any]], name: str) -> tuple[Path, str]:
    raw = ("\n".join(json.dumps(line) for line in lines) + "\n").encode()
    path = directory / name
    path.write_bytes(raw)
    return path, hashlib.sha256(raw).hexdigest()


class TestChatItemsOnARawTextModel:
    async def test_every_item_reaches_the_model_rendered_through_the_runs_template(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings, tmp_path: Path
    ) -> None:
        items, sha = write_lines(tmp_path, CHAT_ITEMS, "chat.jsonl")
        body = run_body(items, 2, triton.grpc_url, sha256=sha, max_tokens=32)
        body["endpoint"]["chat_template"] = "chatml"

        await request_run(gateway, auth_settings, body)

        run = await wait_for_run(gateway, auth_settings, body["run_id"], finished, timeout=30)
        assert (run["status"], run["answered"], run["errored"]) == ("completed", 2, 0), run
        assert run["endpoint"]["chat_template"] == "chatml"
        answers = {
            a["item_id"]: a["text"] for a in await all_responses(gateway, auth_settings, body["run_id"])
        }
        # demo-lm answers with the words of the prompt it received: the ChatML rendering.
        assert answers == {
            "chat": "<|im_start|>system Be brief.<|im_end|> <|im_start|>user name three colours<|im_end|> "
            "<|im_start|>assistant",
            "plain": "<|im_start|>user count to three<|im_end|> <|im_start|>assistant",
        }

    async def test_chat_items_without_a_template_fail_their_run_as_items_invalid_without_blocking_another(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings, tmp_path: Path
    ) -> None:
        chat_items, chat_sha = write_lines(tmp_path, CHAT_ITEMS, "chat.jsonl")
        good_items, good_sha = write_items(tmp_path, 20)
        bad = run_body(chat_items, 2, triton.grpc_url, sha256=chat_sha)
        good = run_body(good_items, 20, triton.grpc_url, sha256=good_sha)

        await asyncio.gather(
            request_run(gateway, auth_settings, bad), request_run(gateway, auth_settings, good)
        )

        bad_run = await wait_for_run(gateway, auth_settings, bad["run_id"], finished, timeout=30)
        good_run = await wait_for_run(gateway, auth_settings, good["run_id"], finished, timeout=30)
        assert (bad_run["status"], bad_run["failure_code"]) == ("failed", "items-invalid")
        assert "carry chat messages" in bad_run["status_reason"]
        assert "names no chat template" in bad_run["status_reason"]
        assert (good_run["status"], good_run["answered"]) == ("completed", 20)


class TestTheEdge:
    async def test_an_unknown_template_is_refused_with_422_unknown_chat_template(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings, tmp_path: Path
    ) -> None:
        items, _ = write_items(tmp_path, 2)
        body = run_body(items, 2, triton.grpc_url)
        body["endpoint"]["chat_template"] = "vicuna"

        refused = await gateway.post("/v1/runs", json=body, headers=bearer(auth_settings, Role.SERVICE))

        assert refused.status_code == 422
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "unknown-chat-template"
        assert "chatml" in refused.json()["detail"]
        missing = await gateway.get(f"/v1/runs/{body['run_id']}", headers=bearer(auth_settings, Role.SERVICE))
        assert missing.status_code == 404

    async def test_a_template_for_an_openai_compatible_endpoint_is_refused(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings, tmp_path: Path
    ) -> None:
        items, _ = write_items(tmp_path, 2)
        body = run_body(items, 2, triton.http_url, protocol="http")
        body["endpoint"] |= {"convention": "openai-chat", "chat_template": "chatml"}

        refused = await gateway.post("/v1/runs", json=body, headers=bearer(auth_settings, Role.SERVICE))

        assert refused.status_code == 422
        assert refused.json()["code"] == "chat-template-not-applicable"


def requested(
    endpoint: RunEndpoint, items: Path, count: int, sha256: str, cls: type[RunRequest] = InferenceRunRequested
) -> RunRequest:
    return cls(
        run_id=uuid.uuid4(),
        stage_id=uuid.uuid4(),
        submission_id=uuid.uuid4(),
        team_id=uuid.uuid4(),
        endpoint=endpoint,
        suite=SuiteReference(suite_id="demo-en", version="1", content_hash=SUITE_HASH),
        items=ItemsSource(uri=items.as_uri(), item_count=count, sha256=sha256),
        decoding=DecodingParameters(max_tokens=4),
        requested_at=datetime.now(UTC),
    )


class TestRunRequestedEvents:
    async def test_v2_is_consumed_and_an_unknown_template_is_dead_lettered(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        gateway_factory: Callable[..., Any],
        triton: TritonProcess,
        auth_settings: AuthSettings,
        kafka_settings: KafkaSettings,
        nowhere: str,
        tmp_path: Path,
    ) -> None:
        gateway: httpx.AsyncClient = await gateway_factory(
            gateway_settings(await database_factory.create("gateway"), intake_enabled=True)
        )
        items, sha = write_lines(tmp_path, CHAT_ITEMS, "chat.jsonl")
        unknown = requested(
            RunEndpoint(
                url=triton.grpc_url, model_name="demo-lm", gpu_pool=GpuPool.H100, chat_template="vicuna"
            ),
            items,
            2,
            sha,
        )
        chat = RunEndpoint(
            url=nowhere,
            model_name="served-chat-model",
            protocol=InferenceProtocol.HTTP,
            gpu_pool=GpuPool.H100,
            convention=ServingConvention.OPENAI_CHAT,
        )
        v2 = requested(chat, items, 2, sha, InferenceRunRequestedV2)
        bootstrap = kafka_settings.bootstrap_servers
        key = str(uuid.uuid4()).encode()
        # Same partition, refused one first: the consumer carries on past it.
        await produce_raw(
            bootstrap, str(Topic.SCORING), [envelope_bytes(unknown), envelope_bytes(v2)], key=key
        )

        accepted = await wait_for_run(
            gateway, auth_settings, str(v2.run_id), lambda run: True, timeout=60, missing_ok=True
        )
        letter = await first_record(
            bootstrap,
            str(Topic.GATEWAY_DLQ),
            lambda record: str(unknown.run_id).encode() in (record.value or b""),
        )

        assert accepted["endpoint"]["convention"] == "openai-chat"
        assert accepted["endpoint"]["model_name"] == "served-chat-model"
        headers = {name: value.decode() for name, value in letter.headers}
        assert headers["fmc-dlq-reason"] == "handler-rejected"
        assert headers["fmc-dlq-error"].startswith("unknown-chat-template: ")
        missing = await gateway.get(
            f"/v1/runs/{unknown.run_id}", headers=bearer(auth_settings, Role.OPERATOR)
        )
        assert missing.status_code == 404
