"""The run request's versions (pure): v1 keeps saying the four conventions its consumers know, v2 says
every convention, and ``run_request`` publishes the oldest version that can say the run."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from fmc_common.contracts.events import event_schema_breaks
from fmc_common.events.inference import (
    InferenceRunRequested,
    InferenceRunRequestedV2,
    ServingConvention,
    run_request,
)

FOUR = ["fmc-text", "triton-vllm", "tensorrt-llm-ensemble", "triton-generate"]


def fields(convention: str, **endpoint: Any) -> dict[str, Any]:
    return {
        "run_id": uuid.uuid4(),
        "stage_id": uuid.uuid4(),
        "submission_id": uuid.uuid4(),
        "team_id": uuid.uuid4(),
        "endpoint": {"url": "triton:8000", "model_name": "m", "protocol": "http", "gpu_pool": "H100"}
        | {"convention": convention}
        | endpoint,
        "suite": {"suite_id": "s", "version": "1", "content_hash": "0" * 64},
        "items": {"uri": "file:///items.jsonl", "item_count": 1},
        "decoding": {},
        "requested_at": datetime.now(UTC),
    }


def conventions(schema: dict[str, Any]) -> list[str]:
    return list(schema["$defs"]["ServingConvention"]["enum"])


class TestVersions:
    def test_v1_says_the_four_conventions_and_v2_every_one(self) -> None:
        assert conventions(InferenceRunRequested.json_schema()) == FOUR
        assert conventions(InferenceRunRequestedV2.json_schema()) == [str(c) for c in ServingConvention]
        assert "openai-chat" in conventions(InferenceRunRequestedV2.json_schema())

    def test_v1_with_the_full_enum_would_break_its_consumers(self) -> None:
        widened = InferenceRunRequestedV2.json_schema() | {"title": InferenceRunRequested.event_type}
        assert event_schema_breaks(InferenceRunRequested.json_schema(), widened) != []

    def test_v1_refuses_a_convention_it_cannot_say(self) -> None:
        with pytest.raises(ValidationError, match=r"inference-run-requested\.v2"):
            InferenceRunRequested(**fields("openai-chat"))

    @pytest.mark.parametrize("convention", FOUR)
    def test_a_run_on_a_known_convention_is_requested_with_v1(self, convention: str) -> None:
        request = run_request(**fields(convention, chat_template="chatml"))
        assert type(request) is InferenceRunRequested
        assert request.endpoint.chat_template == "chatml"

    def test_a_run_on_openai_chat_is_requested_with_v2(self) -> None:
        request = run_request(**fields("openai-chat"))
        assert type(request) is InferenceRunRequestedV2
        assert request.event_type == "fmc.scoring.inference-run-requested.v2"
        assert request.endpoint.convention == ServingConvention.OPENAI_CHAT
