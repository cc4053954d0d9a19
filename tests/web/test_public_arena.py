"""The web tier's side of the anonymous public arena and of the live pages, in-process: the pseudonym
scoring sees, the client address behind trusted proxies, the per-address limit, the few seconds'
cache, the random voter id kept in the session cookie, and the console switch's roles.

What needs the services (an anonymous person voting on a public stage and refused on another, the
pages refreshing themselves) is in test_browser.py, against the real stack.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from fmc_common.settings import AuthSettings
from fmc_devrunner.identity import Client, Provider
from fmc_devrunner.identity import create_app as create_provider
from fmc_web.deps import WebRuntime
from fmc_web.limits import AddressLimiter, TtlCache, client_address, voter_pseudonym
from fmc_web.main import create_app
from fmc_web.session import COOKIE, Session, SessionCodec
from support.web import HostRouter, csrf_of, sign_in, web_settings

WEB = "https://web"
IDP = "https://idp"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TestPseudonym:
    def test_the_pseudonym_is_hex_stable_for_a_session_and_keyed(self) -> None:
        first = voter_pseudonym(b"key-1", "session-voter")
        assert first == voter_pseudonym(b"key-1", "session-voter")
        assert len(first) == 32
        assert int(first, 16) >= 0
        assert first != voter_pseudonym(b"key-2", "session-voter")
        assert first != voter_pseudonym(b"key-1", "another-voter")
        assert "session-voter" not in first


class TestClientAddress:
    def test_without_trusted_proxies_the_peer_is_the_client(self) -> None:
        assert client_address("198.51.100.4", "203.0.113.9", 0) == "198.51.100.4"
        assert client_address(None, None, 0) == "unknown"

    def test_behind_trusted_proxies_the_address_they_saw_counts_not_what_the_client_wrote(self) -> None:
        # The client wrote "1.2.3.4" itself; the load balancer appended the address it saw.
        assert client_address("10.0.0.2", "1.2.3.4, 203.0.113.9", 1) == "203.0.113.9"
        assert client_address("10.0.0.3", "1.2.3.4, 203.0.113.9, 10.0.0.2", 2) == "203.0.113.9"
        # Fewer entries than trusted hops: the header is not what our proxies write; the peer counts.
        assert client_address("10.0.0.2", "", 1) == "10.0.0.2"


class TestAddressLimiter:
    def test_an_address_gets_its_limit_per_sliding_minute_and_others_are_not_affected(self) -> None:
        clock = Clock()
        limiter = AddressLimiter(3, now=clock)
        assert [limiter.allow("203.0.113.9") for _ in range(4)] == [True, True, True, False]
        assert limiter.allow("198.51.100.4")
        clock.now += 59.0
        assert not limiter.allow("203.0.113.9")
        clock.now += 1.5
        assert limiter.allow("203.0.113.9")

    def test_memory_stays_bounded_and_no_address_is_kept_in_clear(self) -> None:
        clock = Clock()
        limiter = AddressLimiter(1, max_addresses=50, now=clock)
        for n in range(500):
            limiter.allow(f"192.0.2.{n}")
        held = limiter._seen  # the limiter's own state: what it keeps about people
        assert len(held) <= 50
        assert not [key for key in held if "192.0.2" in key]


class TestTtlCache:
    async def test_a_value_is_loaded_once_per_period_even_by_concurrent_readers(self) -> None:
        clock = Clock()
        cache = TtlCache(5.0, now=clock)
        loads = 0

        async def load() -> int:
            nonlocal loads
            loads += 1
            await asyncio.sleep(0.01)
            return loads

        assert await asyncio.gather(*(cache.get("k", load) for _ in range(20))) == [1] * 20
        clock.now += 4.9
        assert await cache.get("k", load) == 1
        clock.now += 0.2
        assert await cache.get("k", load) == 2
        assert loads == 2

    async def test_zero_seconds_keeps_nothing(self) -> None:
        cache = TtlCache(0)
        counter = iter(range(10))

        async def load() -> int:
            return next(counter)

        assert [await cache.get("k", load) for _ in range(3)] == [0, 1, 2]


@pytest.fixture
async def site(
    auth_settings: AuthSettings,
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, FastAPI]]:
    """The web tier and the dev provider in-process; no service serves (a call to one is refused)."""
    provider = Provider(IDP, auth_settings.keys.users, [Client("fmc-web", (f"{WEB}/auth/callback",))])  # type: ignore[attr-defined]
    router = HostRouter({})
    settings = web_settings(auth_settings, issuer=IDP, public_url=WEB, services={})
    app = create_app(settings.model_copy(update={"anonymous_battles_per_minute": 2}), transport=router)
    router.apps["idp"] = httpx.ASGITransport(app=create_provider(provider))
    router.apps["web"] = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=router, base_url=WEB) as web,
        httpx.AsyncClient(transport=router, base_url=IDP) as idp,
    ):
        yield web, idp, app


def runtime(app: FastAPI) -> WebRuntime:
    found: WebRuntime = app.state.web
    return found


def session_of(app: FastAPI, web: httpx.AsyncClient) -> Session:
    settings = runtime(app).settings
    found = SessionCodec(settings.session_key.get_secret_value(), 3600).loads(web.cookies.get(COOKIE))
    assert found is not None
    return found


class TestAnonymousVoter:
    async def test_a_person_who_has_not_signed_in_gets_a_random_voter_id_kept_in_the_session(
        self, site: tuple[httpx.AsyncClient, httpx.AsyncClient, FastAPI]
    ) -> None:
        web, _, app = site
        csrf = csrf_of((await web.get("/")).text)
        assert session_of(app, web).voter is None
        stage = uuid.uuid4()
        url = f"/arena/stages/{stage}/battles/stream"
        first = await web.post(url, json={"prompt": "hi"}, headers={"X-CSRF-Token": csrf})
        assert first.json()["code"] == "service-unavailable"  # it went to scoring for the person
        voter = session_of(app, web).voter
        assert voter is not None
        assert len(voter) >= 32
        await web.post(url, json={"prompt": "hi"}, headers={"X-CSRF-Token": csrf})
        assert session_of(app, web).voter == voter

    async def test_anonymous_battles_over_the_address_limit_are_refused_in_the_persons_language(
        self, site: tuple[httpx.AsyncClient, httpx.AsyncClient, FastAPI]
    ) -> None:
        web, _, app = site
        csrf = csrf_of((await web.get("/")).text)
        stage = uuid.uuid4()
        url = f"/arena/stages/{stage}/battles/stream"
        for _ in range(2):  # the site's limit: 2 a minute (they reach for scoring, which is not here)
            tried = await web.post(url, json={"prompt": "hi"}, headers={"X-CSRF-Token": csrf})
            assert tried.json()["code"] == "service-unavailable"
        web.cookies.clear()  # a fresh cookie is a fresh voter, not a fresh address
        csrf = csrf_of((await web.get("/")).text)
        refused = await web.post(
            url, json={"prompt": "hi"}, headers={"X-CSRF-Token": csrf, "Accept-Language": "en"}
        )
        assert (refused.status_code, refused.json()["code"]) == (429, "anonymous-rate-limited")
        assert "(2 at most)" in refused.json()["message"]
        page = await web.post(
            f"/arena/stages/{stage}/battles",
            data={"csrf": csrf, "prompt": "hi"},
            headers={"Accept-Language": "ko"},
        )
        assert page.status_code == 429
        assert 'data-code="anonymous-rate-limited"' in page.text
        assert "최대 2회" in page.text
        assert runtime(app).limiter.allow("198.51.100.4")  # another address has its own limit

    async def test_a_signed_in_account_that_is_not_a_field_user_may_not_vote(
        self, site: tuple[httpx.AsyncClient, httpx.AsyncClient, FastAPI]
    ) -> None:
        web, idp, _ = site
        await sign_in(web, idp, "team-member", "team", team_id=str(uuid.uuid4()))
        csrf = csrf_of((await web.get("/")).text)
        url = f"/arena/stages/{uuid.uuid4()}/battles/stream"
        refused = await web.post(url, json={"prompt": "hi"}, headers={"X-CSRF-Token": csrf})
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")


class TestConsoleSwitch:
    async def test_only_an_operator_may_switch_and_a_stranger_is_sent_to_sign_in(
        self, site: tuple[httpx.AsyncClient, httpx.AsyncClient, FastAPI]
    ) -> None:
        web, idp, _ = site
        stage = uuid.uuid4()
        url = f"/console/stages/{stage}/arena"
        csrf = csrf_of((await web.get("/")).text)
        stranger = await web.post(url, data={"csrf": csrf, "public": "true"})
        assert stranger.status_code == 303
        assert stranger.headers["location"].startswith("/signin?next=")
        await sign_in(web, idp, "voter-1", "evaluator")
        csrf = csrf_of((await web.get("/")).text)
        voter = await web.post(url, data={"csrf": csrf, "public": "true"}, headers={"Accept-Language": "en"})
        assert voter.status_code == 403
        assert 'data-code="forbidden"' in voter.text
        forged = await web.post(url, data={"csrf": "forged", "public": "true"})
        assert forged.status_code == 403
        assert 'data-code="csrf-failed"' in forged.text

    async def test_an_operators_switch_goes_to_scoring_with_the_operators_own_token(
        self, site: tuple[httpx.AsyncClient, httpx.AsyncClient, FastAPI]
    ) -> None:
        web, idp, _ = site
        await sign_in(web, idp, "office", "operator")
        csrf = csrf_of((await web.get("/")).text)
        url = f"/console/stages/{uuid.uuid4()}/arena"
        sent = await web.post(url, data={"csrf": csrf, "public": "maybe"})
        assert sent.status_code == 422
        assert 'data-code="validation-failed"' in sent.text
        reached = await web.post(url, data={"csrf": csrf, "public": "true"})
        assert reached.status_code == 503  # scoring is not here: the switch went for it
        assert 'data-code="service-unavailable"' in reached.text
