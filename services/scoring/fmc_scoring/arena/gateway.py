"""The inference gateway's arena API: two anonymised answers to a prompt, then who gave which."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from fmc_common.errors import AppError, Unavailable
from fmc_common.service_tokens import ServiceAuth, TokenSource


class ArenaBusy(AppError):
    status = 429
    code = "arena-busy"
    title = "Too many battles for this voter right now; try again later"


class ArenaUnavailable(Unavailable):
    code = "arena-unavailable"
    title = "The models could not answer the battle"


@dataclass(frozen=True)
class GatewayBattle:
    battle_id: uuid.UUID
    a_text: str
    b_text: str
    a_submission_id: uuid.UUID
    b_submission_id: uuid.UUID


class ArenaGateway:
    def __init__(
        self,
        base_url: str,
        token: TokenSource,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._transport = transport

    async def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        # Service to service inside the cluster: never through an ambient HTTP(S)_PROXY.
        async with httpx.AsyncClient(
            base_url=self._base,
            auth=ServiceAuth(self._token),
            timeout=self._timeout,
            transport=self._transport,
            trust_env=False,
        ) as client:
            try:
                response = await client.request(method, path, json=payload)
            except httpx.HTTPError as exc:
                raise ArenaUnavailable(f"the gateway did not answer: {exc!r}") from exc
        if response.status_code == 429:
            raise ArenaBusy("the gateway limits this voter's battles for now", **_retry(response))
        if response.status_code >= 300:
            raise ArenaUnavailable(f"the gateway answered {response.status_code}: {response.text[:300]}")
        body: dict[str, Any] = response.json()
        return body

    async def battle(
        self,
        stage_id: uuid.UUID,
        voter: str,
        prompt: str,
        contenders: list[dict[str, Any]],
        decoding: dict[str, Any],
    ) -> GatewayBattle:
        started = await self._call(
            "POST",
            "/v1/arena/battles",
            {
                "stage_id": str(stage_id),
                "voter_id": voter,
                "prompt": prompt,
                "contenders": contenders,
                "decoding": decoding,
            },
        )
        revealed = await self._call("GET", f"/v1/arena/battles/{started['battle_id']}")
        return GatewayBattle(
            battle_id=uuid.UUID(started["battle_id"]),
            a_text=started["answers"]["a"],
            b_text=started["answers"]["b"],
            a_submission_id=uuid.UUID(revealed["a_submission_id"]),
            b_submission_id=uuid.UUID(revealed["b_submission_id"]),
        )


def _retry(response: httpx.Response) -> dict[str, Any]:
    try:
        seconds = response.json().get("retry_after_seconds")
    except ValueError:
        return {}
    return {"retry_after_seconds": seconds} if seconds is not None else {}
