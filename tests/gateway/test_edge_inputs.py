"""What the gateway's REST edge refuses before it reaches the database (found by test_api_fuzz.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from fmc_common.auth import Role
from fmc_common.settings import AuthSettings
from gateway.conftest import SettingsFactory
from gateway.helpers import run_body, write_items
from support.databases import DatabaseFactory
from support.services import bearer

pytestmark = [pytest.mark.broker]


def _battle() -> dict[str, Any]:
    endpoint = {"url": "127.0.0.1:1", "model_name": "demo-lm", "gpu_pool": "H100"}
    return {
        "stage_id": "6f1c1f0e-3b7e-4c1e-9a53-0d5f8a4c2b11",
        "voter_id": "voter-1",
        "prompt": "Which planet is largest?",
        "contenders": [
            {"submission_id": "0b6f0a3e-8c39-4e43-a0f3-5c9f7e5e3d21", "endpoint": endpoint},
            {"submission_id": "1c7e1b4f-9d4a-4f54-b1e4-6da08f6f4e32", "endpoint": endpoint},
        ],
    }


class TestNulCharacters:
    """PostgreSQL cannot store NUL in text: a run request carrying one answered 500 there."""

    @pytest.mark.parametrize(
        ("path", "make"),
        [
            (
                "/v1/runs",
                lambda items: (
                    run_body(items, 1, "127.0.0.1:1")
                    | {"suite": {"suite_id": "a\x00b", "version": "1", "content_hash": "0" * 64}}
                ),
            ),
            (
                "/v1/runs",
                lambda items: (
                    run_body(items, 1, "127.0.0.1:1") | {"items": {"uri": "\x00ZY", "item_count": 1}}
                ),
            ),
            ("/v1/arena/battles", lambda items: _battle() | {"prompt": "Which\x00 planet?"}),
            (
                "/v1/endpoints/check",
                lambda items: {"endpoint": {"url": "127.0.0.1:1", "model_name": "a\x00", "gpu_pool": "H100"}},
            ),
        ],
        ids=["run-suite-id", "run-items-uri", "battle-prompt", "check-model-name"],
    )
    async def test_a_body_with_a_nul_character_is_a_422_problem(
        self,
        database_factory: DatabaseFactory,
        gateway_settings: SettingsFactory,
        gateway_factory: Callable[..., Any],
        auth_settings: AuthSettings,
        tmp_path: Path,
        path: str,
        make: Callable[[Path], dict[str, Any]],
    ) -> None:
        gateway: httpx.AsyncClient = await gateway_factory(
            gateway_settings(await database_factory.create("gateway"), runs_enabled=False)
        )
        items, _ = write_items(tmp_path, 1)

        response = await gateway.post(path, json=make(items), headers=bearer(auth_settings, Role.SERVICE))

        assert response.status_code == 422, response.text
        assert response.json()["code"] == "validation-failed"
        assert "NUL" in response.text
