"""The readiness check before a run, against a real Triton: a wrong model fails the run with a reason
a team can act on (and the gateway carries on); an unreachable server makes the run wait, saying why."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from fmc_common.auth import Role
from fmc_common.settings import AuthSettings, KafkaSettings
from fmc_devrunner.triton import TritonProcess
from gateway.helpers import finished, of_type, request_run, run_body, run_events, wait_for_run, write_items
from support.services import bearer

pytestmark = [pytest.mark.broker, pytest.mark.triton]


class TestWrongSignature:
    async def test_a_model_with_the_wrong_signature_fails_the_run_with_a_clear_reason_not_a_crash(
        self,
        gateway: httpx.AsyncClient,
        triton: TritonProcess,
        auth_settings: AuthSettings,
        kafka_settings: KafkaSettings,
        tmp_path: Path,
    ) -> None:
        items, _ = write_items(tmp_path, 10)
        body = run_body(items, 10, triton.grpc_url, model="wrong-signature-lm")
        run = await request_run(gateway, auth_settings, body)

        failed = await wait_for_run(gateway, auth_settings, run["id"], finished)

        assert failed["status"] == "failed"
        assert failed["failure_code"] == "model-contract-mismatch"
        reason = failed["status_reason"]
        assert "model 'wrong-signature-lm'" in reason
        assert "missing input 'prompt' (BYTES, one element)" in reason
        assert "missing input 'max_tokens' (INT32, one element)" in reason
        assert "missing output 'text' (BYTES, one element)" in reason
        assert "unexpected required input 'input_ids'" in reason
        assert "docs/triton-contract.md" in reason
        events = await run_events(
            kafka_settings.bootstrap_servers,
            run["id"],
            lambda found: bool(of_type(found, "inference-run-failed")),
        )
        [event] = of_type(events, "inference-run-failed")
        assert event.data["code"] == "model-contract-mismatch"
        assert event.data["reason"] == reason
        # The gateway is still up and answers the next run.
        assert (await gateway.get("/healthz")).status_code == 200
        ok = await request_run(gateway, auth_settings, run_body(items, 10, triton.grpc_url))
        assert (await wait_for_run(gateway, auth_settings, ok["id"], finished))["status"] == "completed"

    async def test_the_check_endpoint_lists_every_violation(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings
    ) -> None:
        endpoint = {"url": triton.grpc_url, "model_name": "wrong-signature-lm", "gpu_pool": "B200"}
        response = await gateway.post(
            "/v1/endpoints/check", json={"endpoint": endpoint}, headers=bearer(auth_settings, Role.OPERATOR)
        )
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["ready"] is False
        assert report["code"] == "model-contract-mismatch"
        assert len(report["violations"]) == 6
        good = await gateway.post(
            "/v1/endpoints/check",
            json={"endpoint": endpoint | {"model_name": "demo-lm"}},
            headers=bearer(auth_settings, Role.OPERATOR),
        )
        assert good.json()["ready"] is True
        assert good.json()["sent_inputs"] == {"prompt": "BYTES", "max_tokens": "INT32"}
        team = await gateway.post(
            "/v1/endpoints/check",
            json={"endpoint": endpoint},
            headers=bearer(auth_settings, Role.TEAM, uuid.uuid4()),
        )
        assert team.status_code == 403

    async def test_a_temperature_the_model_cannot_take_fails_the_run(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings, tmp_path: Path
    ) -> None:
        items, _ = write_items(tmp_path, 2)
        run = await request_run(gateway, auth_settings, run_body(items, 2, triton.grpc_url, temperature=0.7))
        failed = await wait_for_run(gateway, auth_settings, run["id"], finished)
        assert failed["failure_code"] == "model-contract-mismatch"
        assert "temperature 0.7" in failed["status_reason"]


class TestNotReady:
    async def test_a_model_that_is_not_loaded_fails_the_run_as_not_ready(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings, tmp_path: Path
    ) -> None:
        items, _ = write_items(tmp_path, 2)
        run = await request_run(
            gateway, auth_settings, run_body(items, 2, triton.grpc_url, model="no-such-lm")
        )
        failed = await wait_for_run(gateway, auth_settings, run["id"], finished)
        assert failed["failure_code"] == "model-not-ready"
        assert "model 'no-such-lm' is not ready" in failed["status_reason"]
        assert "no such model in its repository" in failed["status_reason"]

    async def test_an_unreachable_server_leaves_the_run_waiting_and_says_why(
        self, gateway: httpx.AsyncClient, auth_settings: AuthSettings, tmp_path: Path, nowhere: str
    ) -> None:
        items, _ = write_items(tmp_path, 2)
        run = await request_run(gateway, auth_settings, run_body(items, 2, nowhere))
        waiting = await wait_for_run(gateway, auth_settings, run["id"], lambda r: r["status"] == "waiting")
        assert waiting["status_reason"].startswith(
            f"readiness check: Triton at {nowhere} (grpc) did not answer"
        )
        assert "trying again" in waiting["status_reason"]


class TestItems:
    async def test_items_carrying_anything_but_prompts_fail_the_run(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings, tmp_path: Path
    ) -> None:
        items = tmp_path / "with-answers.jsonl"
        items.write_text('{"item_id": "q1", "prompt": "2+2?", "answer": "4"}\n')
        run = await request_run(gateway, auth_settings, run_body(items, 1, triton.grpc_url))
        failed = await wait_for_run(gateway, auth_settings, run["id"], finished)
        assert failed["failure_code"] == "items-invalid"
        assert "only item_id and prompt" in failed["status_reason"]

    async def test_items_outside_the_items_directory_are_refused(
        self, gateway: httpx.AsyncClient, triton: TritonProcess, auth_settings: AuthSettings
    ) -> None:
        # Refused when the run is requested, not when it is prepared (tests/gateway/test_items_origin.py).
        body = run_body(Path("/etc/passwd"), 1, triton.grpc_url)
        response = await gateway.post("/v1/runs", json=body, headers=bearer(auth_settings, Role.SERVICE))
        assert response.status_code == 422
        assert response.json()["code"] == "uri-not-allowed"
        assert "must be below" in response.json()["detail"]
