"""The operator console's health, decision preview, objection queue and additional selection
(in-process: the web tier and the dev provider as ASGI apps; the browser test drives them on the
real stack)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from fmc_common.auth import Role
from fmc_common.service_tokens import ServiceTokens
from fmc_common.settings import AuthSettings
from fmc_devrunner.identity import Client, Provider
from fmc_devrunner.identity import create_app as create_provider
from fmc_web.clients import Services
from fmc_web.console_ops import HEALTH_OF, health, preview
from fmc_web.main import create_app
from support.databases import DatabaseFactory
from support.ops import backlog_and_letters, grievance_without_relay
from support.services import bearer
from support.web import HostRouter, csrf_of, sign_in, web_settings

WEB = "https://web"
IDP = "https://idp"
STAGE = uuid.uuid4()
OBJECTION = uuid.uuid4()
CALL = uuid.uuid4()
TEAM = uuid.uuid4()

PAGES = [
    f"/console/stages/{STAGE}/results/1",
    f"/console/stages/{STAGE}/objections",
    f"/console/stages/{STAGE}/selection",
]
POSTS: list[tuple[str, dict[str, str]]] = [
    (f"/console/stages/{STAGE}/objections/{OBJECTION}/review", {}),
    (
        f"/console/stages/{STAGE}/objections/{OBJECTION}/decision",
        {"outcome": "rejected", "reason": "Checked twice: the grade stands."},
    ),
    (f"/console/stages/{STAGE}/selection/{CALL}/applications", {"team_id": str(TEAM)}),
    (f"/console/stages/{STAGE}/selection/{CALL}/selection", {"team_id": str(TEAM), "reason": "next in line"}),
    (f"/console/stages/{STAGE}/results/1/feedback", {"team_id": str(TEAM), "text": "Well done."}),
]


@pytest.fixture
async def browser(auth_settings: AuthSettings) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """No service behind the web tier: a refusal must come before any call to one."""
    provider = Provider(IDP, auth_settings.keys.users, [Client("fmc-web", (f"{WEB}/auth/callback",))])  # type: ignore[attr-defined]
    router = HostRouter({})
    app: FastAPI = create_app(
        web_settings(auth_settings, issuer=IDP, public_url=WEB, services={}), transport=router
    )
    router.apps["idp"] = httpx.ASGITransport(app=create_provider(provider))
    router.apps["web"] = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=router, base_url=WEB) as web,
        httpx.AsyncClient(transport=router, base_url=IDP) as idp,
    ):
        yield web, idp


class TestOperatorsOnly:
    @pytest.mark.parametrize(("role", "team"), [("team", str(TEAM)), ("evaluator", "")])
    async def test_a_team_or_an_evaluator_is_refused_every_page_and_every_action(
        self, browser: tuple[httpx.AsyncClient, httpx.AsyncClient], role: str, team: str
    ) -> None:
        web, idp = browser
        await sign_in(web, idp, f"{role}-1", role, team)
        for path in PAGES:
            refused = await web.get(path, headers={"Accept-Language": "en"})
            assert refused.status_code == 403, path
            assert 'data-code="forbidden"' in refused.text
        csrf = csrf_of((await web.get("/")).text)
        for path, form in POSTS:
            refused = await web.post(path, data=form | {"csrf": csrf}, headers={"Origin": WEB})
            assert refused.status_code == 403, path
            assert 'data-code="forbidden"' in refused.text

    async def test_without_a_session_the_pages_send_to_sign_in(
        self, browser: tuple[httpx.AsyncClient, httpx.AsyncClient]
    ) -> None:
        web, _ = browser
        for path in PAGES:
            sent = await web.get(path)
            assert sent.status_code == 303
            assert sent.headers["location"].startswith("/signin")

    async def test_a_decision_outside_accept_or_reject_is_refused_at_the_edge(
        self, browser: tuple[httpx.AsyncClient, httpx.AsyncClient]
    ) -> None:
        web, idp = browser
        await sign_in(web, idp, "office", "operator")
        csrf = csrf_of((await web.get("/")).text)
        path, form = POSTS[1]
        refused = await web.post(
            path, data=form | {"csrf": csrf, "outcome": "withdrawn"}, headers={"Origin": WEB}
        )
        assert refused.status_code == 422
        assert 'data-code="validation-failed"' in refused.text


def operator_result() -> dict[str, Any]:
    a, b = uuid.uuid4(), uuid.uuid4()

    def team(team_id: uuid.UUID, name: str, **values: Any) -> dict[str, Any]:
        return {"team_id": str(team_id), "team_name": name} | values

    return {
        "version": 2,
        "status": "proposed",
        "blocking": [],
        "advancing_planned": 2,
        "advancing": 1,
        "teams": [
            team(
                b,
                "Beta",
                outcome="eliminate",
                reason="benchmark-threshold",
                rank=None,
                composite=None,
                detail={
                    "gates": {"originality": "pass", "benchmark-threshold": "fail"},
                    "benchmark_accuracy": 0.41,
                    "inputs": {
                        "suites": {
                            "ko@1": {
                                "suite_key": "ko",
                                "suite_version": "1",
                                "accuracy": 0.15,
                                "ci_low": 0.1,
                                "ci_high": 0.2,
                            }
                        },
                        "originality": {"verdict": "original"},
                    },
                },
            ),
            team(
                a,
                "Alpha",
                outcome="advance",
                reason=None,
                rank=1,
                composite=71.5,
                detail={
                    "gates": {"originality": "pass", "benchmark-threshold": "pass"},
                    "benchmark_accuracy": 0.8,
                    "inputs": {
                        "suites": {
                            "ko@1": {
                                "suite_key": "ko",
                                "suite_version": "1",
                                "accuracy": 0.8,
                                "ci_low": 0.7,
                                "ci_high": 0.9,
                            }
                        },
                        "originality": {"verdict": "original"},
                    },
                },
            ),
        ],
    }


class TestPreview:
    def test_each_team_shows_its_figures_against_the_minimums_and_its_open_objections(self) -> None:
        result = operator_result()
        alpha, beta = (uuid.UUID(t["team_id"]) for t in reversed(result["teams"]))
        criteria = {
            "overall_threshold": 0.5,
            "suites": [{"suite_key": "ko", "suite_version": "1", "min_accuracy": 0.2}],
        }
        shown = preview(result, criteria, [beta, beta, alpha])
        assert shown.overall_threshold == 0.5
        assert [line.name for line in shown.teams] == ["Alpha", "Beta"]  # ranked first, then the rest
        first, second = shown.teams
        assert (first.rank, first.composite, first.benchmark_accuracy, first.verdict) == (
            1,
            71.5,
            0.8,
            "original",
        )
        assert first.suites[0].minimum == 0.2
        assert not first.suites[0].below
        assert second.suites[0].below
        assert second.gates["benchmark-threshold"] == "fail"
        assert (first.open_objections, second.open_objections) == (1, 2)

    def test_a_suite_without_a_minimum_is_never_below_it(self) -> None:
        shown = preview(operator_result(), {"overall_threshold": None, "suites": []}, [])
        assert all(not s.below and s.minimum is None for line in shown.teams for s in line.suites)
        assert shown.overall_threshold is None


class _OneService(httpx.AsyncBaseTransport):
    """Routes ``grievance`` to the real app; every other service is unreachable (connection refused)."""

    def __init__(self, app: FastAPI) -> None:
        self._app = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "grievance":
            return await self._app.handle_async_request(request)
        raise httpx.ConnectError("connection refused", request=request)


@pytest.mark.broker
class TestHealth:
    async def test_the_board_reads_each_service_and_names_the_one_that_did_not_answer(
        self, database_factory: DatabaseFactory, broker: str, auth_settings: AuthSettings
    ) -> None:
        url = await database_factory.create("console-health")
        async with grievance_without_relay(url, broker, auth_settings) as app:
            await backlog_and_letters(app.state.runtime, events=3, letters=2)
            services = Services(
                {name: f"http://{name}" for name in HEALTH_OF},
                ServiceTokens(auth_settings, "web"),
                timeout=10,
                stream_timeout=10,
                max_connections=10,
                transport=_OneService(app),
            )
            token = bearer(auth_settings, Role.OPERATOR)["Authorization"].removeprefix("Bearer ")
            try:
                lines = {line.service: line for line in await health(services, token)}
            finally:
                await services.aclose()
        assert set(lines) == set(HEALTH_OF)
        mine = lines["grievance"]
        assert mine.problem is None
        assert mine.health is not None
        assert (mine.health.unsent, mine.health.dead_letters) == (3, 2)
        assert mine.health.latest[0].reason == "schema-violation"
        assert {c.name for c in mine.health.consumers} == {
            "grievance.participants",
            "grievance.stage-results",
        }
        for other in set(HEALTH_OF) - {"grievance"}:
            assert (lines[other].health, lines[other].problem) == (None, "service-unavailable")
