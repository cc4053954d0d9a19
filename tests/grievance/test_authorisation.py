"""Authorisation matrix: every grievance endpoint and every role (anonymous, operator, evaluator, service,
the team itself, another team). The public sees nothing; a team never sees another team's objections."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fmc_common.auth import Role
from fmc_common.settings import AuthSettings
from fmc_grievance.main import create_app
from fmc_grievance.settings import GrievanceSettings
from grievance.harness import Grievance
from support.services import bearer

ROLES = ["anonymous", "operator", "evaluator", "service", "own-team", "other-team"]
PDF = b"%PDF-1.7\n%%EOF\n"


@dataclass
class Scenario:
    """A stage, the team that objects, and its objection (under review when the case needs it)."""

    team: uuid.UUID
    other: uuid.UUID
    stage: uuid.UUID
    notification: str
    objection: str
    sha256: str


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    expected: dict[str, int]
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    under_review: bool = False


def only(allowed: dict[str, int], denied_team: int = 403) -> dict[str, int]:
    """Roles not listed are refused: 401 without a token, 403 with one."""
    expected = {role: 403 for role in ROLES} | {"anonymous": 401, "other-team": denied_team}
    return expected | allowed


AMENDMENT = {"grounds": "other", "statement": "Amended.", "attachments": []}
KEYED = {"Idempotency-Key": "matrix-key"}

CASES: dict[str, Case] = {
    "GET /v1/participants/{team_id}": Case(
        "GET", "/v1/participants/{team}", only({"operator": 404, "service": 404, "own-team": 404})
    ),
    "POST /v1/notifications": Case(
        "POST",
        "/v1/notifications",
        only({"operator": 201}),
        body={
            "decision": {"kind": "stage-result", "id": "{stage}"},
            "stage_id": "{stage}",
            "teams": [{"team_id": "{team}"}],
        },
    ),
    "GET /v1/notifications": Case("GET", "/v1/notifications", only({"operator": 200, "own-team": 200}, 200)),
    "GET /v1/notifications/{notification_id}": Case(
        "GET", "/v1/notifications/{notification}", only({"operator": 200, "own-team": 200})
    ),
    "POST /v1/objections": Case(
        "POST",
        "/v1/objections",
        # Another team files for itself, and it was not notified of this decision.
        only({"own-team": 201}, 409),
        body={
            "decision": {"kind": "stage-result", "id": "{stage}"},
            "grounds": "other",
            "statement": "Second.",
        },
        headers=KEYED,
    ),
    "GET /v1/objections": Case("GET", "/v1/objections", only({"operator": 200, "own-team": 200}, 200)),
    "GET /v1/objections/{objection_id}": Case(
        "GET", "/v1/objections/{objection}", only({"operator": 200, "own-team": 200})
    ),
    "GET /v1/objections/{objection_id}/versions": Case(
        "GET", "/v1/objections/{objection}/versions", only({"operator": 200, "own-team": 200})
    ),
    "POST /v1/objections/{objection_id}/amendments": Case(
        "POST",
        "/v1/objections/{objection}/amendments",
        only({"own-team": 201}),
        body=AMENDMENT,
        headers=KEYED,
    ),
    "POST /v1/objections/{objection_id}/withdrawal": Case(
        "POST",
        "/v1/objections/{objection}/withdrawal",
        only({"own-team": 200}),
        body={"reason": "We withdraw it."},
    ),
    "POST /v1/objections/{objection_id}/review": Case(
        "POST", "/v1/objections/{objection}/review", only({"operator": 200}), body={}
    ),
    "POST /v1/objections/{objection_id}/decision": Case(
        "POST",
        "/v1/objections/{objection}/decision",
        only({"operator": 200}),
        body={"outcome": "rejected", "reason": "The process was followed."},
        under_review=True,
    ),
    "GET /v1/objections/{objection_id}/attachments/{sha256}": Case(
        "GET", "/v1/objections/{objection}/attachments/{sha256}", only({"operator": 200, "own-team": 200})
    ),
    "GET /v1/objections/{objection_id}/history": Case(
        "GET", "/v1/objections/{objection}/history", only({"operator": 200, "own-team": 200})
    ),
    "GET /v1/decisions/{decision_kind}/{decision_id}/grievance": Case(
        "GET", "/v1/decisions/stage-result/{stage}/grievance", only({"operator": 200})
    ),
    "GET /v1/audit": Case("GET", "/v1/audit", only({"operator": 200})),
    "GET /v1/audit/verification": Case("GET", "/v1/audit/verification", only({"operator": 200})),
    "GET /v1/ops/health": Case("GET", "/v1/ops/health", only({"operator": 200})),
}
OPERATIONS = ("/healthz", "/readyz", "/metrics")


def test_the_matrix_covers_every_endpoint(tmp_path: Path, auth_settings: AuthSettings) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'never-opened.db'}"
    app = create_app(GrievanceSettings(database_url=url, auth=auth_settings))
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    routes = {
        f"{method.upper()} {path}"
        for path, operations in paths.items()
        if path not in OPERATIONS
        for method in operations
    }
    assert routes == set(CASES)


async def scenario(grievance: Grievance, under_review: bool) -> Scenario:
    team, other = uuid.uuid4(), uuid.uuid4()
    [notification] = await grievance.notify([team])
    content = {
        "name": "proof.pdf",
        "media_type": "application/pdf",
        "content_base64": base64.b64encode(PDF).decode(),
    }
    filed = await grievance.file(team, attachments=[content])
    assert filed.status_code == 201, filed.text
    objection = filed.json()
    if under_review:
        started = await grievance.client.post(
            f"/v1/objections/{objection['id']}/review", json={}, headers=grievance.operator()
        )
        assert started.status_code == 200
    return Scenario(
        team,
        other,
        grievance.stage_id,
        notification["id"],
        objection["id"],
        objection["attachments"][0]["sha256"],
    )


def headers_for(grievance: Grievance, role: str, s: Scenario) -> dict[str, str]:
    if role == "anonymous":
        return {}
    if role in ("own-team", "other-team"):
        return bearer(grievance.auth, Role.TEAM, s.team if role == "own-team" else s.other)
    return bearer(grievance.auth, Role(role))


def fill(value: Any, s: Scenario) -> Any:
    if isinstance(value, str):
        return value.format(
            team=s.team, stage=s.stage, notification=s.notification, objection=s.objection, sha256=s.sha256
        )
    if isinstance(value, dict):
        return {k: fill(v, s) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, s) for v in value]
    return value


@pytest.mark.parametrize("name", sorted(CASES))
async def test_each_role_gets_exactly_what_it_may(grievance: Grievance, name: str) -> None:
    case = CASES[name]
    outcomes: dict[str, int] = {}
    for role in ROLES:
        s = await scenario(grievance.for_new_stage(), case.under_review)
        response = await grievance.client.request(
            case.method,
            fill(case.path, s),
            json=fill(case.body, s) if case.body is not None else None,
            headers=headers_for(grievance, role, s) | case.headers,
        )
        outcomes[role] = response.status_code
        if response.status_code == 200 and case.method == "GET" and role == "other-team":
            # Listed for another team: never this team's objection or notification.
            assert s.objection not in response.text
            assert s.notification not in response.text
    assert outcomes == case.expected
