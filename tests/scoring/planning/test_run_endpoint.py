"""A run request's endpoint is the frozen submission's, serving convention included (pure)."""

from __future__ import annotations

import uuid

from fmc_common.events.inference import ServingConvention
from fmc_common.events.registry import FrozenSubmission
from fmc_scoring.planning.service import run_endpoint


def frozen(endpoint: dict[str, str]) -> FrozenSubmission:
    return FrozenSubmission.model_validate(
        {
            "submission_id": str(uuid.uuid4()),
            "team_id": str(uuid.uuid4()),
            "version": 1,
            "endpoint": endpoint,
            "manifest_digest": "sha256:" + "0" * 64,
        }
    )


ENDPOINT = {
    "url": "triton:8000",
    "model_name": "m",
    "model_version": "1",
    "protocol": "HTTP",
    "gpu_pool": "b200",
}


def test_the_submission_s_convention_is_carried_to_the_gateway() -> None:
    endpoint = run_endpoint(frozen(ENDPOINT | {"convention": "tensorrt-llm-ensemble"}))
    assert endpoint.convention == ServingConvention.TENSORRT_LLM_ENSEMBLE
    assert (endpoint.protocol, endpoint.gpu_pool) == ("http", "B200")


def test_a_submission_announced_before_conventions_existed_is_served_with_ours() -> None:
    assert run_endpoint(frozen(ENDPOINT)).convention == ServingConvention.FMC_TEXT


def test_the_submission_s_chat_template_is_carried_to_the_gateway() -> None:
    endpoint = run_endpoint(frozen(ENDPOINT | {"convention": "triton-vllm", "chat_template": "chatml"}))
    assert (endpoint.convention, endpoint.chat_template) == (ServingConvention.TRITON_VLLM, "chatml")
    assert run_endpoint(frozen(ENDPOINT)).chat_template is None
