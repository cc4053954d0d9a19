"""The registry's record of a submission, read service to service: its weights manifest and location.

The originality check trusts none of it blindly: the manifest's digest must be the one frozen in this
service's planning records when the evaluation started (``bound.bound_submission``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from fmc_common.errors import Unavailable
from fmc_common.service_tokens import ServiceEndpoint


class RegistryUnavailable(Unavailable):
    code = "registry-unavailable"
    title = "The registry could not give the submission's manifest"


@dataclass(frozen=True)
class RegisteredSubmission:
    submission_id: uuid.UUID
    stage_id: uuid.UUID
    team_id: uuid.UUID
    manifest: dict[str, Any]
    manifest_digest: str
    weights_location: str


class RegistrySubmissions(ServiceEndpoint):
    async def submission(self, submission_id: uuid.UUID) -> RegisteredSubmission:
        async with self.client() as client:
            try:
                response = await client.get(f"/v1/submissions/{submission_id}")
            except httpx.HTTPError as exc:
                raise RegistryUnavailable(f"the registry did not answer: {exc!r}") from exc
        if response.status_code != 200:
            raise RegistryUnavailable(
                f"the registry answered {response.status_code} for submission {submission_id}: "
                f"{response.text[:300]}"
            )
        try:
            body = response.json()
            return RegisteredSubmission(
                submission_id=uuid.UUID(body["id"]),
                stage_id=uuid.UUID(body["stage_id"]),
                team_id=uuid.UUID(body["team_id"]),
                manifest=dict(body["manifest"]),
                manifest_digest=str(body["manifest_digest"]),
                weights_location=str(body["weights_location"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RegistryUnavailable(f"the registry's answer is not a submission: {exc!r}") from exc
