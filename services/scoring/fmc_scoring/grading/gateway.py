"""Reading a run's responses from the inference gateway's REST API, checked against its hash.

The hash is the gateway's documented one: sha256 over one canonical JSON line per record in item
order, ``{"error", "item_id", "status", "text"}`` with sorted keys and no spaces. Grading responses
that do not match what the gateway announced would grade something else than what was run.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import httpx

from fmc_common.errors import PermanentError, TransientError
from fmc_common.service_tokens import ServiceEndpoint
from fmc_scoring.grading.service import Response

PAGE = 1000
RECENT_RUNS = 8
"""Completed runs whose records a client keeps: a judged run's answers are read when the team's run
completes and again when its judge's run does (docs/scoring.md, "Judged answers")."""


def record_line(item_id: str, status: str, text: str | None, error: str | None) -> bytes:
    body = {"error": error, "item_id": item_id, "status": status, "text": text}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


@dataclass(frozen=True)
class GatewayClient(ServiceEndpoint):
    """The gateway's REST API as scoring reads it. A completed run's records never change, so the
    last ``RECENT_RUNS`` runs read are kept (by run and announced hash) and not read again."""

    _recent: OrderedDict[tuple[uuid.UUID, str], tuple[Response, ...]] = field(
        default_factory=OrderedDict, compare=False, repr=False
    )

    async def _get(self, client: httpx.AsyncClient, path: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise TransientError(f"the gateway did not answer: {exc!r}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientError(f"the gateway answered {response.status_code} for {path}")
        if response.status_code != 200:
            raise PermanentError(
                f"the gateway answered {response.status_code} for {path}: {response.text[:500]}"
            )
        body: dict[str, Any] = response.json()
        return body

    async def responses(self, run_id: uuid.UUID, expected_sha256: str) -> list[Response]:
        """Every record of a completed run, in item order; refused if they do not hash as announced."""
        key = (run_id, expected_sha256)
        kept = self._recent.get(key)
        if kept is not None:
            self._recent.move_to_end(key)
            return list(kept)
        records: list[Response] = []
        digest = hashlib.sha256()
        cursor: str | None = None
        async with self.client() as client:
            while True:
                params: dict[str, Any] = {"limit": PAGE} | ({"cursor": cursor} if cursor else {})
                page = await self._get(client, f"/v1/runs/{run_id}/responses", params)
                for item in page["items"]:
                    digest.update(
                        record_line(item["item_id"], item["status"], item.get("text"), item.get("error"))
                    )
                    records.append(
                        Response(item["item_id"], item.get("text") if item["status"] == "ok" else None)
                    )
                cursor = page.get("next_cursor")
                if not cursor:
                    break
        if digest.hexdigest() != expected_sha256:
            raise PermanentError(
                f"run {run_id}: the responses read do not match the announced responses_sha256"
            )
        self._recent[key] = tuple(records)
        while len(self._recent) > RECENT_RUNS:
            self._recent.popitem(last=False)
        return records
