"""The team portal in-process against the real grievance service (SQLite and PostgreSQL, the real
broker): a team follows its objection (versions, history, countdown, attachments it alone can
download), amends it and withdraws it; another team is refused everything of it. The portal's
JSON for the live run progress refuses anyone but a team member. Pure helpers: which stage the
portal follows and how its runs read.

The web tier, the dev OpenID Connect provider and grievance are ASGI apps behind one routing
transport, sharing one manual clock.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from fmc_common.clock import ManualClock
from fmc_common.settings import AuthSettings
from fmc_devrunner.identity import Client, Provider
from fmc_devrunner.identity import create_app as create_provider
from fmc_devrunner.ports import free_port
from fmc_grievance.settings import GrievanceSettings
from fmc_web import team_views, views
from fmc_web.main import create_app
from grievance.harness import NOTIFIED_AT, Grievance, GrievanceDeployment
from support.databases import DatabaseFactory
from support.kafka import broker_settings
from support.web import HostRouter, csrf_of, sign_in, web_settings

WEB = "https://web"
IDP = "https://idp"
EVIDENCE = b"Item 7: both B and D are correct; see the textbook, p. 12.\n"
EN = {"Accept-Language": "en"}


@dataclass
class Portal:
    router: HostRouter
    grievance: Grievance
    clock: ManualClock


def _portal_app(auth: AuthSettings, router: HostRouter, clock: ManualClock) -> FastAPI:
    provider = Provider(IDP, auth.keys.users, [Client("fmc-web", (f"{WEB}/auth/callback",))])  # type: ignore[attr-defined]
    settings = web_settings(auth, issuer=IDP, public_url=WEB, services={"grievance": "http://grievance"})
    app = create_app(settings, clock=clock, transport=router)
    router.apps["idp"] = httpx.ASGITransport(app=create_provider(provider))
    router.apps["web"] = httpx.ASGITransport(app=app)
    return app


@pytest.fixture
async def portal(
    database_factory: DatabaseFactory, broker: str, auth_settings: AuthSettings
) -> AsyncIterator[Portal]:
    clock = ManualClock(NOTIFIED_AT)
    settings = GrievanceSettings(
        database_url=await database_factory.create("grievance"),
        kafka=broker_settings(broker),
        auth=auth_settings,
        grpc_port=free_port(),
        closing_poll_interval_seconds=0.05,
        shutdown_grace_seconds=5,
    )
    async with GrievanceDeployment(settings, clock, auth_settings).running() as grievance:
        router = HostRouter({"grievance": httpx.ASGITransport(app=grievance.app)})
        app = _portal_app(auth_settings, router, clock)
        async with app.router.lifespan_context(app):
            yield Portal(router, grievance, clock)


@asynccontextmanager
async def signed_in(
    router: HostRouter, subject: str, role: str, team_id: uuid.UUID | None = None
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A browser of its own (its own cookies), signed in through the code flow, and its CSRF token."""
    async with (
        httpx.AsyncClient(transport=router, base_url=WEB) as web,
        httpx.AsyncClient(transport=router, base_url=IDP) as idp,
    ):
        landed = await sign_in(web, idp, subject, role, str(team_id) if team_id else "")
        assert landed.status_code == 303, landed.text
        yield web, csrf_of((await web.get("/", headers=EN)).text)


async def file_objection(portal: Portal, web: httpx.AsyncClient, csrf: str) -> str:
    """Through the portal's form, with an attachment; the objection's id."""
    filed = await web.post(
        "/team/objections",
        data={
            "csrf": csrf,
            "decision_kind": "stage-result",
            "decision_id": str(portal.grievance.stage_id),
            "grounds": "scoring-error",
            "statement": "Item 7 has two correct answers.",
            "idempotency_key": uuid.uuid4().hex,
        },
        files={"attachment": ("evidence.txt", EVIDENCE, "text/plain")},
    )
    assert filed.status_code == 303, filed.text
    found = re.fullmatch(r"/team\?filed=([0-9a-f-]{36})", filed.headers["location"])
    assert found, filed.headers["location"]
    return found.group(1)


def problem_code(page: httpx.Response) -> str:
    found = re.search(r'data-code="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


@pytest.mark.broker
class TestObjectionFollowed:
    async def test_the_team_sees_its_objection_with_versions_history_countdown_and_attachment(
        self, portal: Portal
    ) -> None:
        team = uuid.uuid4()
        await portal.grievance.notify([team])
        async with signed_in(portal.router, "team-lead", "team", team) as (web, csrf):
            objection = await file_objection(portal, web, csrf)
            page = await web.get(f"/team/objections/{objection}", headers=EN)
            assert page.status_code == 200, page.text
            assert 'data-status="received"' in page.text
            assert "version 1" in page.text
            # Notified 1 December 10:00 KST with 10 days: the window closes 12 December 00:00 KST.
            assert "10 days 14 hours 0 minutes left" in page.text
            assert "2026-12-11 23:59 KST" in page.text
            assert 'data-action="objection.filed"' in page.text
            korean = await web.get(f"/team/objections/{objection}", headers={"Accept-Language": "ko"})
            assert "10일 14시간 0분 남음" in korean.text
            assert "이의 신청 마감: 2026-12-11 23:59 KST (한국 시간)" in korean.text
            sha = hashlib.sha256(EVIDENCE).hexdigest()
            link = f"/team/objections/{objection}/attachments/{sha}"
            assert f'href="{link}"' in page.text
            downloaded = await web.get(link)
            assert downloaded.status_code == 200
            assert downloaded.content == EVIDENCE
            assert downloaded.headers["content-disposition"].startswith("attachment")
            assert "evidence.txt" in downloaded.headers["content-disposition"]

            portal.clock.advance(timedelta(days=3, hours=2, minutes=30))
            later = await web.get(f"/team/objections/{objection}", headers=EN)
            assert "7 days 11 hours 30 minutes left" in later.text

    async def test_the_team_amends_keeping_its_attachment_and_both_versions_stay_readable(
        self, portal: Portal
    ) -> None:
        team = uuid.uuid4()
        await portal.grievance.notify([team])
        sha = hashlib.sha256(EVIDENCE).hexdigest()
        async with signed_in(portal.router, "team-lead", "team", team) as (web, csrf):
            objection = await file_objection(portal, web, csrf)
            amended = await web.post(
                f"/team/objections/{objection}/amendments",
                data={
                    "csrf": csrf,
                    "grounds": "scoring-error",
                    "statement": "Item 7 has two correct answers, and item 9 too.",
                    "idempotency_key": uuid.uuid4().hex,
                    "keep": [sha],
                },
                files={"attachment": ("more.txt", b"Item 9: A and C.\n", "text/plain")},
            )
            assert amended.status_code == 303, amended.text
            page = await web.get(amended.headers["location"], headers=EN)
            assert "The new version was saved." in page.text
            assert "version 2" in page.text
            assert page.text.count('<li data-version="') == 2
            assert "and item 9 too." in page.text
            assert "Item 7 has two correct answers." in page.text
            assert 'data-action="objection.amended"' in page.text
        versions = await portal.grievance.client.get(
            f"/v1/objections/{objection}/versions", headers=portal.grievance.team(team)
        )
        second = versions.json()["items"][1]
        assert sorted(a["name"] for a in second["attachments"]) == ["evidence.txt", "more.txt"]
        assert second["statement"] == "Item 7 has two correct answers, and item 9 too."

    async def test_the_team_withdraws_with_a_reason_and_can_change_it_no_more(self, portal: Portal) -> None:
        team = uuid.uuid4()
        await portal.grievance.notify([team])
        async with signed_in(portal.router, "team-lead", "team", team) as (web, csrf):
            objection = await file_objection(portal, web, csrf)
            path = f"/team/objections/{objection}"
            short = await web.post(f"{path}/withdrawal", data={"csrf": csrf, "reason": "no"}, headers=EN)
            assert (short.status_code, problem_code(short)) == (422, "validation-failed")
            withdrawn = await web.post(
                f"{path}/withdrawal", data={"csrf": csrf, "reason": "We found the answer key was right."}
            )
            assert withdrawn.status_code == 303, withdrawn.text
            page = await web.get(withdrawn.headers["location"], headers=EN)
            assert "The objection was withdrawn." in page.text
            assert 'data-status="withdrawn"' in page.text
            assert 'data-action="objection.withdrawn"' in page.text
            assert "We found the answer key was right." in page.text
            assert 'id="amend"' not in page.text
            assert 'id="withdraw"' not in page.text
            refused = await web.post(
                f"{path}/amendments",
                data={
                    "csrf": csrf,
                    "grounds": "other",
                    "statement": "Second thoughts.",
                    "idempotency_key": uuid.uuid4().hex,
                },
                headers=EN,
            )
            assert (refused.status_code, problem_code(refused)) == (409, "illegal-objection-transition")
            assert "can no longer be changed" in refused.text

    async def test_after_the_deadline_the_page_says_closed_and_offers_no_amendment(
        self, portal: Portal
    ) -> None:
        team = uuid.uuid4()
        await portal.grievance.notify([team])
        async with signed_in(portal.router, "team-lead", "team", team) as (web, csrf):
            objection = await file_objection(portal, web, csrf)
            portal.clock.advance(timedelta(days=11))
            page = await web.get(f"/team/objections/{objection}", headers=EN)
            assert "The objection window has closed." in page.text
            assert 'id="amend"' not in page.text
            assert 'id="withdraw"' in page.text  # withdrawing stays possible until it is decided

    async def test_another_team_sees_nothing_of_it_and_cannot_download_its_attachment(
        self, portal: Portal
    ) -> None:
        owner, other = uuid.uuid4(), uuid.uuid4()
        await portal.grievance.notify([owner, other])
        async with signed_in(portal.router, "owner-lead", "team", owner) as (web, csrf):
            objection = await file_objection(portal, web, csrf)
        sha = hashlib.sha256(EVIDENCE).hexdigest()
        async with signed_in(portal.router, "other-lead", "team", other) as (web, csrf):
            page = await web.get(f"/team/objections/{objection}", headers=EN)
            assert (page.status_code, problem_code(page)) == (403, "forbidden")
            assert "Item 7" not in page.text
            download = await web.get(f"/team/objections/{objection}/attachments/{sha}")
            assert download.status_code == 403
            assert EVIDENCE not in download.content
            withdraw = await web.post(
                f"/team/objections/{objection}/withdrawal",
                data={"csrf": csrf, "reason": "Withdrawing someone else's objection."},
            )
            assert withdraw.status_code == 403
        listed = await portal.grievance.client.get(
            f"/v1/objections/{objection}", headers=portal.grievance.team(owner)
        )
        assert listed.json()["status"] == "received"

    async def test_an_evaluator_is_refused_the_objection_page(self, portal: Portal) -> None:
        async with signed_in(portal.router, "voter", "evaluator") as (web, _):
            page = await web.get(f"/team/objections/{uuid.uuid4()}", headers=EN)
            assert (page.status_code, problem_code(page)) == (403, "forbidden")


@pytest.fixture
async def bare(auth_settings: AuthSettings) -> AsyncIterator[HostRouter]:
    """The web tier and the provider only: for refusals made before any service is called."""
    router = HostRouter({})
    app = _portal_app(auth_settings, router, ManualClock(datetime(2026, 12, 1, tzinfo=UTC)))
    async with app.router.lifespan_context(app):
        yield router


class TestProgressRefusals:
    async def test_without_a_session_the_progress_is_a_401_problem(self, bare: HostRouter) -> None:
        async with httpx.AsyncClient(transport=bare, base_url=WEB) as web:
            answer = await web.get("/team/progress", headers={"Accept": "application/json"})
        assert answer.status_code == 401
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["code"] == "unauthenticated"

    @pytest.mark.parametrize("role", ["evaluator", "operator"])
    async def test_only_a_team_member_reads_the_progress(self, bare: HostRouter, role: str) -> None:
        async with signed_in(bare, f"{role}-1", role) as (web, _):
            answer = await web.get("/team/progress", headers={"Accept": "application/json"})
        assert answer.status_code == 403
        assert answer.json()["code"] == "forbidden"

    async def test_an_attachment_name_that_is_not_a_sha256_is_refused_at_the_edge(
        self, bare: HostRouter
    ) -> None:
        async with signed_in(bare, "lead", "team", uuid.uuid4()) as (web, _):
            answer = await web.get(f"/team/objections/{uuid.uuid4()}/attachments/..%2F..%2Fetc", headers=EN)
        assert answer.status_code in (404, 422)


def _stage(number: int) -> views.Stage:
    return views.Stage(
        id=uuid.uuid4(),
        programme_id=uuid.UUID(int=1),
        number=number,
        name=f"Stage {number}",
        status="evaluating",
        notification_at=datetime(2026, 1, 1, tzinfo=UTC),
        objection_days=10,
        objection_deadline="2026-01-11T23:59:59+09:00",
    )


def _submission(stage: views.Stage, frozen: bool) -> views.Submission:
    return views.Submission(
        id=uuid.uuid4(),
        stage_id=stage.id,
        team_id=uuid.UUID(int=7),
        version=1,
        registered_at=datetime(2026, 1, 1, tzinfo=UTC),
        frozen_at=datetime(2026, 1, 2, tzinfo=UTC) if frozen else None,
    )


def _run(suite: str, version: str, status: str, answered: int, minute: int) -> team_views.GatewayRun:
    return team_views.GatewayRun(
        id=uuid.uuid4(),
        stage_id=uuid.UUID(int=2),
        team_id=uuid.UUID(int=7),
        status=status,
        total=10,
        answered=answered,
        errored=1,
        suite_id=suite,
        suite_version=version,
        requested_at=datetime(2026, 1, 1, 0, minute, tzinfo=UTC),
    )


class TestHelpers:
    def test_the_current_stage_is_the_last_with_a_frozen_submission(self) -> None:
        one, two, three = _stage(1), _stage(2), _stage(3)
        submissions = [_submission(one, True), _submission(two, True), _submission(three, False)]
        assert team_views.current_stage([one, two, three], submissions) == two
        assert team_views.current_stage([one, two, three], [_submission(three, False)]) is None

    def test_runs_read_by_suite_name_in_request_order_and_samples_keep_their_mark(self) -> None:
        late = _run("s-1", "1.0+sample.1", "running", 4, minute=5)
        early = _run("s-1", "1.0", "completed", 10, minute=1)
        unknown = _run("s-9", "2.0", "failed", 0, minute=9)
        lines = team_views.run_lines([late, unknown, early], {"s-1": "demo-ko-mc 1.0"})
        assert [(line.suite, line.done, line.total, line.errored) for line in lines] == [
            ("demo-ko-mc 1.0", 10, 10, 1),
            ("demo-ko-mc 1.0 (sample.1)", 4, 10, 1),
            ("s-9", 0, 10, 1),
        ]

    def test_the_page_keeps_asking_until_publication_and_then_while_a_run_moves(self) -> None:
        stage = _stage(1)
        done = team_views.run_lines([_run("s", "1", "completed", 10, 1)], {})
        moving = team_views.run_lines([_run("s", "1", "waiting", 3, 1)], {})
        assert team_views.moving(stage, done, published=False)
        assert team_views.moving(stage, [], published=False)
        assert team_views.moving(stage, moving, published=True)
        assert not team_views.moving(stage, done, published=True)
        assert not team_views.moving(None, [], published=False)
