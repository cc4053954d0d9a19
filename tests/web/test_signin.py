"""Signing in through a real OpenID Connect code flow with PKCE (the dev provider on Authlib's server
parts), the session cookie, CSRF on every POST, the security headers and the person's language.

In-process: the web tier and the provider are ASGI apps behind one routing transport, so the web
tier's calls to the provider (discovery, token, JWKS) are real HTTP exchanges with no socket.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from fmc_common.settings import AuthSettings
from fmc_devrunner.identity import Client, Provider
from fmc_devrunner.identity import create_app as create_provider
from fmc_web.arena import translated
from fmc_web.deps import csrf_checked
from fmc_web.i18n import MESSAGES, Lang, Translator, choose
from fmc_web.main import ROUTERS, create_app
from fmc_web.middleware import CONTENT_SECURITY_POLICY
from fmc_web.session import COOKIE
from support.web import HostRouter, csrf_of, sign_in, web_settings

WEB = "https://web"
IDP = "https://idp"


@pytest.fixture
async def browser(
    auth_settings: AuthSettings,
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, FastAPI]]:
    provider = Provider(IDP, auth_settings.keys.users, [Client("fmc-web", (f"{WEB}/auth/callback",))])  # type: ignore[attr-defined]
    router = HostRouter({})
    app = create_app(web_settings(auth_settings, issuer=IDP, public_url=WEB, services={}), transport=router)
    router.apps["idp"] = httpx.ASGITransport(app=create_provider(provider))
    router.apps["web"] = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=router, base_url=WEB) as web,
        httpx.AsyncClient(transport=router, base_url=IDP) as idp,
    ):
        yield web, idp, app


class TestSignIn:
    async def test_an_evaluator_signs_in_through_the_code_flow_and_lands_where_they_were_going(
        self, browser: tuple[httpx.AsyncClient, httpx.AsyncClient, FastAPI]
    ) -> None:
        web, idp, _ = browser
        anonymous = (await web.get("/")).cookies.get(COOKIE) or web.cookies.get(COOKIE)
        landed = await sign_in(web, idp, "voter-1", "evaluator", next_path="/results")
        assert landed.status_code == 303
        assert landed.headers["location"] == "/results"
        home = await web.get("/", headers={"Accept-Language": "en"})
        assert "Signed in as voter-1 (evaluator)" in home.text
        # The session changed at sign-in (a fresh cookie, a fresh CSRF token), and no token is readable in it.
        assert web.cookies.get(COOKIE) != anonymous
        assert "eyJ" not in (web.cookies.get(COOKIE) or "")

    async def test_the_authorisation_request_uses_pkce_s256_a_state_and_a_nonce(
        self, browser: tuple[httpx.AsyncClient, httpx.AsyncClient, FastAPI]
    ) -> None:
        web, _, _ = browser
        started = await web.get("/signin")
        query = parse_qs(urlsplit(started.headers["location"]).query)
        assert query["code_challenge_method"] == ["S256"]
        assert len(query["code_challenge"][0]) == 43
        assert query["state"][0]
        assert query["nonce"][0]
        assert query["redirect_uri"] == [f"{WEB}/auth/callback"]

    async def test_a_callback_with_another_state_signs_nobody_in(
        self, browser: tuple[httpx.AsyncClient, httpx.AsyncClient, FastAPI]
    ) -> None:
        web, idp, _ = browser
        started = await web.get("/signin")
        query = {k: v[0] for k, v in parse_qs(urlsplit(started.headers["location"]).query).items()}
        granted = await idp.post("/authorize", data=query | {"subject": "x", "role": "operator"})
        code = parse_qs(urlsplit(granted.headers["location"]).query)["code"][0]
        refused = await web.get("/auth/callback", params={"code": code, "state": "forged"})
        assert refused.status_code == 400
        assert 'data-code="signin-failed"' in refused.text
        assert "Signed in as" not in (await web.get("/")).text

    async def test_a_code_replayed_by_another_browser_is_refused_without_its_verifier(
        self, browser: tuple[httpx.AsyncClient, httpx.AsyncClient, FastAPI]
    ) -> None:
        web, idp, _ = browser
        started = await web.get("/signin")
        query = {k: v[0] for k, v in parse_qs(urlsplit(started.headers["location"]).query).items()}
        granted = await idp.post("/authorize", data=query | {"subject": "x", "role": "operator"})
        code = parse_qs(urlsplit(granted.headers["location"]).query)["code"][0]
        stolen = await idp.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": "fmc-web",
                "redirect_uri": f"{WEB}/auth/callback",
                "code_verifier": "x" * 50,
            },
        )
        assert stolen.status_code == 400
        assert stolen.json()["error"] == "invalid_grant"

    async def test_only_a_path_of_this_site_is_a_destination_after_sign_in(
        self, browser: tuple[httpx.AsyncClient, httpx.AsyncClient, FastAPI]
    ) -> None:
        web, idp, _ = browser
        landed = await sign_in(web, idp, "op", "operator", next_path="//evil.example/steal")
        assert landed.headers["location"] == "/"

    async def test_a_team_member_keeps_the_team_id_of_the_token(
        self, browser: tuple[httpx.AsyncClient, httpx.AsyncClient, FastAPI]
    ) -> None:
        web, idp, _ = browser
        team = str(uuid.uuid4())
        await sign_in(web, idp, "member", "team", team_id=team)
        assert "Signed in as member (team)" in (await web.get("/", headers={"Accept-Language": "en"})).text


class TestCookiesAndHeaders:
    async def test_the_session_cookie_is_httponly_secure_and_samesite(
        self, browser: tuple[httpx.AsyncClient, httpx.AsyncClient, FastAPI]
    ) -> None:
        web, _, _ = browser
        response = await web.get("/")
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=")
        for flag in ("HttpOnly", "Secure", "SameSite=Lax", "Path=/"):
            assert flag in cookie

    async def test_every_page_has_a_strict_content_security_policy_without_inline_script(
        self, browser: tuple[httpx.AsyncClient, httpx.AsyncClient, FastAPI]
    ) -> None:
        web, _, _ = browser
        for path in ("/", "/no-such-page", "/static/app.css"):
            headers = (await web.get(path)).headers
            assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
            assert headers["x-frame-options"] == "DENY"
            assert headers["x-content-type-options"] == "nosniff"
        assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
        assert "script-src 'self'" in CONTENT_SECURITY_POLICY
        assert "<script>" not in (await web.get("/")).text

    async def test_a_tampered_cookie_is_no_session(
        self, browser: tuple[httpx.AsyncClient, httpx.AsyncClient, FastAPI]
    ) -> None:
        web, idp, _ = browser
        await sign_in(web, idp, "op", "operator")
        value = web.cookies[COOKIE]
        web.cookies.clear()
        web.cookies.set(COOKIE, value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB"), domain="web")
        assert "Signed in as" not in (await web.get("/", headers={"Accept-Language": "en"})).text


class TestCsrf:
    async def test_a_post_without_the_token_is_refused_with_the_code(
        self, browser: tuple[httpx.AsyncClient, httpx.AsyncClient, FastAPI]
    ) -> None:
        web, idp, _ = browser
        await sign_in(web, idp, "op", "operator")
        refused = await web.post("/signout", data={}, headers={"Accept-Language": "en"})
        assert refused.status_code == 403
        assert 'data-code="csrf-failed"' in refused.text
        assert "Problem code (for support): csrf-failed" in refused.text
        still = await web.get("/", headers={"Accept-Language": "en"})
        assert "Signed in as op" in still.text
        signed_out = await web.post("/signout", data={"csrf": csrf_of(still.text)})
        assert signed_out.status_code == 303
        assert "Signed in as" not in (await web.get("/", headers={"Accept-Language": "en"})).text

    async def test_a_post_from_another_origin_is_refused_even_with_the_token(
        self, browser: tuple[httpx.AsyncClient, httpx.AsyncClient, FastAPI]
    ) -> None:
        web, _, _ = browser
        csrf = csrf_of((await web.get("/")).text)
        refused = await web.post(
            "/lang", data={"csrf": csrf, "lang": "en"}, headers={"Origin": "https://evil.example"}
        )
        assert refused.status_code == 403

    async def test_a_json_post_needs_the_token_in_its_header(
        self, browser: tuple[httpx.AsyncClient, httpx.AsyncClient, FastAPI]
    ) -> None:
        web, _, _ = browser
        stage = uuid.uuid4()
        refused = await web.post(f"/arena/stages/{stage}/battles/stream", json={"prompt": "hello"})
        assert refused.status_code == 403
        assert refused.json()["code"] == "csrf-failed"
        csrf = csrf_of((await web.get("/")).text)
        # Past the CSRF check, a person who has not signed in is an anonymous voter: the web tier goes
        # to scoring for them (none serves here; tests/web/test_public_arena.py has the rest).
        anonymous = await web.post(
            f"/arena/stages/{stage}/battles/stream", json={"prompt": "hello"}, headers={"X-CSRF-Token": csrf}
        )
        assert anonymous.status_code == 503
        assert anonymous.json()["code"] == "service-unavailable"

    def test_every_post_route_checks_the_csrf_token(self) -> None:
        routes = [r for router in ROUTERS for r in router.routes]
        posts = [r for r in routes if isinstance(r, APIRoute) and "POST" in (r.methods or ())]
        assert len(posts) >= 6
        for route in posts:
            calls = [d.call for d in route.dependant.dependencies]
            assert csrf_checked in calls, route.path


class TestLanguage:
    def test_every_message_has_korean_and_english(self) -> None:
        for key, texts in MESSAGES.items():
            assert set(texts) == {Lang.KO, Lang.EN}, key
            assert all(texts.values()), key

    def test_accept_language_picks_the_first_spoken_language_by_quality(self) -> None:
        assert choose(None, "en-US,en;q=0.9,ko;q=0.8") == Lang.EN
        assert choose(None, "fr;q=1, ko;q=0.5, en;q=0.4") == Lang.KO
        assert choose(None, None) == Lang.KO
        assert choose("en", "ko") == Lang.EN

    async def test_the_switch_keeps_the_choice_for_the_next_pages(
        self, browser: tuple[httpx.AsyncClient, httpx.AsyncClient, FastAPI]
    ) -> None:
        web, _, _ = browser
        first = await web.get("/", headers={"Accept-Language": "ko"})
        assert '<html lang="ko">' in first.text
        switched = await web.post(
            "/lang", data={"csrf": csrf_of(first.text), "lang": "en", "next": "/results"}
        )
        assert switched.status_code == 303
        assert switched.headers["location"] == "/results"
        again = await web.get("/", headers={"Accept-Language": "ko"})
        assert '<html lang="en">' in again.text
        assert "Evaluate and verify the models" in again.text


class TestStreamRelay:
    def test_an_error_event_gets_the_persons_message_and_keeps_its_code(self) -> None:
        line = '{"type": "error", "status": 503, "code": "arena-unavailable", "detail": "model not ready"}'
        event = json.loads(translated(line, Translator(Lang.KO)))
        assert event["code"] == "arena-unavailable"
        assert event["message"] == MESSAGES["problem.arena-unavailable"][Lang.KO]

    def test_text_and_done_events_pass_unchanged(self) -> None:
        for line in ('{"type": "text", "side": "a", "text": "안녕"}', '{"type": "done", "battle_id": "x"}'):
            assert translated(line, Translator(Lang.EN)) == line.encode()
