"""The inference gateway's arena API: two anonymised answers to a prompt (whole or streamed), then
who gave which."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import ValidationError

from fmc_common.arena_stream import BattleDone, BattleFailed, BattleText, parse_battle_event
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

    def _client(self) -> httpx.AsyncClient:
        # Service to service inside the cluster: never through an ambient HTTP(S)_PROXY.
        return httpx.AsyncClient(
            base_url=self._base,
            auth=ServiceAuth(self._token),
            timeout=self._timeout,
            transport=self._transport,
            trust_env=False,
        )

    async def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        async with self._client() as client:
            try:
                response = await client.request(method, path, json=payload)
            except httpx.HTTPError as exc:
                raise ArenaUnavailable(f"the gateway did not answer: {exc!r}") from exc
        _refused(response)
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
            "POST", "/v1/arena/battles", _battle_body(stage_id, voter, prompt, contenders, decoding)
        )
        a_submission_id, b_submission_id = await self.reveal(uuid.UUID(started["battle_id"]))
        return GatewayBattle(
            battle_id=uuid.UUID(started["battle_id"]),
            a_text=started["answers"]["a"],
            b_text=started["answers"]["b"],
            a_submission_id=a_submission_id,
            b_submission_id=b_submission_id,
        )

    async def reveal(self, battle_id: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
        """Which submissions answered as A and as B."""
        revealed = await self._call("GET", f"/v1/arena/battles/{battle_id}")
        return uuid.UUID(revealed["a_submission_id"]), uuid.UUID(revealed["b_submission_id"])

    async def stream_battle(
        self,
        stage_id: uuid.UUID,
        voter: str,
        prompt: str,
        contenders: list[dict[str, Any]],
        decoding: dict[str, Any],
    ) -> GatewayStream:
        """The gateway's streamed battle, opened: a refusal (the voter's limit, a model not ready)
        is raised here, before anything is relayed. Close the stream when done with it."""
        client = self._client()
        request = client.build_request(
            "POST",
            "/v1/arena/battles/stream",
            json=_battle_body(stage_id, voter, prompt, contenders, decoding),
        )
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            await client.aclose()
            raise ArenaUnavailable(f"the gateway did not answer: {exc!r}") from exc
        if response.status_code != 200:
            try:
                await response.aread()
            finally:
                await response.aclose()
                await client.aclose()
            _refused(response)
            raise ArenaUnavailable(f"the gateway answered {response.status_code}")
        return GatewayStream(client, response)


class GatewayStream:
    """A streamed battle coming from the gateway, read event by event."""

    def __init__(self, client: httpx.AsyncClient, response: httpx.Response) -> None:
        self._client = client
        self._response = response

    async def events(self) -> AsyncIterator[BattleText | BattleDone | BattleFailed]:
        """The gateway's events; a broken connection or line ends the stream with an error event."""
        try:
            async for line in self._response.aiter_lines():
                if line:
                    yield parse_battle_event(line)
        except (httpx.HTTPError, ValidationError) as exc:
            error = ArenaUnavailable(f"the gateway's stream broke: {exc!r}")
            yield BattleFailed(status=error.status, code=error.code, title=error.title, detail=error.title)

    async def close(self) -> None:
        """Idempotent: leaving the stream early closes the connection (the gateway then stops)."""
        await self._response.aclose()
        await self._client.aclose()


def _battle_body(
    stage_id: uuid.UUID, voter: str, prompt: str, contenders: list[dict[str, Any]], decoding: dict[str, Any]
) -> dict[str, Any]:
    return {
        "stage_id": str(stage_id),
        "voter_id": voter,
        "prompt": prompt,
        "contenders": contenders,
        "decoding": decoding,
    }


def _refused(response: httpx.Response) -> None:
    if response.status_code == 429:
        raise ArenaBusy("the gateway limits this voter's battles for now", **_retry(response))
    if response.status_code >= 300:
        raise ArenaUnavailable(f"the gateway answered {response.status_code}: {response.text[:300]}")


def _retry(response: httpx.Response) -> dict[str, Any]:
    try:
        seconds = response.json().get("retry_after_seconds")
    except ValueError:
        return {}
    return {"retry_after_seconds": seconds} if seconds is not None else {}
