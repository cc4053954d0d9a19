"""Arena votes per second through the web tier, against the same votes posted directly to scoring.

The real stack runs as processes (``DevStack`` with the web tier and the dev OpenID Connect provider;
the stage driven by the stage-1 replay's steps up to the benchmark runs, so its arena is open).
``--voters`` simulated voters (200) each sign in to the web tier through the code flow (a session
cookie and its CSRF token, as a browser holds them) and hold an evaluator token for the direct side.
Battles are started beforehand, directly on scoring (not measured: they spend the models' time, the
same for both sides). Then, in each round, every voter casts ``--votes`` votes at once on each side:

* direct: ``POST /v1/arena/battles/{id}/vote`` on scoring, JSON, with the bearer token;
* web: ``POST /arena/battles/{id}/vote`` on the web tier, the form a browser posts (CSRF token,
  session cookie), which calls the same scoring endpoint with the person's token and renders the
  page that reveals who answered.

Both sides run in every round, their order alternating. Prints each side's votes per second and its
latencies (p50, p99); the last line is JSON with ``ratio`` (web / direct, the median of the rounds).

    .venv/bin/python bench/arena_votes.py [--voters 200] [--votes 1] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from fmc_common.auth import Role
from fmc_common.dev_auth import mint_token
from fmc_devrunner.stack import DevStack, StackConfig
from fmc_devrunner.stage1 import models, world
from fmc_devrunner.stage1.scenario import SMALL, Replay

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Voter:
    subject: str
    web: httpx.AsyncClient
    csrf: str
    bearer: dict[str, str]
    battles: list[str]


async def sign_in(
    web_url: str, idp_url: str, subject: str, limits: httpx.Limits
) -> tuple[httpx.AsyncClient, str]:
    """A browser's code flow: the web tier's /signin, the provider's form, the callback.

    The session cookie is Secure: a browser sends it to http://127.0.0.1, httpx's cookie jar does not,
    so it is carried by hand (as the browser would)."""
    web = httpx.AsyncClient(base_url=web_url, trust_env=False, timeout=120, limits=limits)
    carry_session(web)
    started = await web.get("/signin", params={"next": "/"})
    query = {k: v[0] for k, v in parse_qs(urlsplit(started.headers["location"]).query).items()}
    async with httpx.AsyncClient(trust_env=False, timeout=60) as idp:
        granted = await idp.post(
            f"{idp_url}/authorize", data=query | {"subject": subject, "role": "evaluator"}
        )
    back = urlsplit(granted.headers["location"])
    done = await web.get(f"{back.path}?{back.query}")
    assert done.status_code == 303, done.text
    home = await web.get("/")
    found = CSRF.search(home.text)
    assert found, "no CSRF token on the page"
    assert subject in home.text, "not signed in"
    return web, found.group(1)


def carry_session(client: httpx.AsyncClient) -> None:
    async def keep(response: httpx.Response) -> None:
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            if name == "fmc_session":
                client.headers["Cookie"] = f"fmc_session={rest.split(';', 1)[0]}"

    client.event_hooks["response"].append(keep)


async def start_battles(stack: DevStack, stage_id: uuid.UUID, voters: list[Voter], each: int) -> None:
    scoring = stack.services["scoring"].url
    gate = asyncio.Semaphore(16)  # the models' time: not what is measured
    async with httpx.AsyncClient(trust_env=False, timeout=120) as client:

        async def one(voter: Voter) -> None:
            async with gate:
                started = await client.post(
                    f"{scoring}/v1/stages/{stage_id}/arena/battles",
                    json={
                        "prompt": world.ARENA_PROMPTS[len(voter.battles) % len(world.ARENA_PROMPTS)].prompt
                    },
                    headers=voter.bearer,
                )
            assert started.status_code == 201, started.text
            voter.battles.append(started.json()["battle_id"])

        for _ in range(each):
            await asyncio.gather(*(one(v) for v in voters))


async def direct_side(
    client: httpx.AsyncClient, scoring: str, voters: list[Voter], battles: dict[str, list[str]]
) -> tuple[float, list[float]]:
    """``client`` is kept open across rounds, as each voter's web client is: both sides' connections
    are warm."""
    latencies: list[float] = []

    async def cast(voter: Voter) -> None:
        for battle in battles[voter.subject]:
            began = time.perf_counter()
            voted = await client.post(
                f"{scoring}/v1/arena/battles/{battle}/vote", json={"choice": "tie"}, headers=voter.bearer
            )
            latencies.append(time.perf_counter() - began)
            assert voted.status_code == 201, voted.text

    started = time.perf_counter()
    await asyncio.gather(*(cast(v) for v in voters))
    return time.perf_counter() - started, latencies


async def web_side(
    stage_id: uuid.UUID, voters: list[Voter], battles: dict[str, list[str]]
) -> tuple[float, list[float]]:
    latencies: list[float] = []

    async def cast(voter: Voter) -> None:
        for battle in battles[voter.subject]:
            began = time.perf_counter()
            voted = await voter.web.post(
                f"/arena/battles/{battle}/vote",
                data={"csrf": voter.csrf, "choice": "tie", "stage_id": str(stage_id)},
            )
            latencies.append(time.perf_counter() - began)
            assert voted.status_code == 200, voted.text[:500]
            assert 'id="reveal-a"' in voted.text

    started = time.perf_counter()
    await asyncio.gather(*(cast(v) for v in voters))
    return time.perf_counter() - started, latencies


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(voter_count: int, votes: int, rounds: int) -> dict[str, object]:
    var = Path(tempfile.mkdtemp(prefix="fmc-bench-votes-"))
    repository = var / "model_repository"
    await asyncio.to_thread(
        models.build_repository, repository, world.TEAM_MODELS, models.demo_questions(SMALL.suites)
    )
    config = StackConfig(
        var,
        model_repository=repository,
        load_models=models.served_models(world.TEAM_MODELS),
        service_env={
            "FMC_SCORING_ARENA_DAILY_VOTES": str(votes * rounds * 2 + 10),
            "FMC_GATEWAY_ARENA_VOTER_LIMIT": str(votes * rounds * 2 + 10),
        },
        with_web=True,
    )
    stack = DevStack(config, progress=lambda _: None)
    replay = Replay(stack, SMALL, lambda _: None)
    voters: list[Voter] = []
    voters_clients: list[httpx.AsyncClient] = []
    try:
        await stack.start()
        for step in (replay.programme, replay.submissions, replay.benchmarks):
            await step()
        assert stack.web is not None
        # Idle connections dropped before uvicorn drops them (5 s), on both sides alike.
        limits = httpx.Limits(max_connections=4, max_keepalive_connections=4, keepalive_expiry=4.0)
        for index in range(voter_count):
            subject = f"bench-voter-{index:03d}"
            web, csrf = await sign_in(stack.web.url, stack.web.identity_url, subject, limits)
            token = mint_token(stack.auth, subject=subject, role=Role.EVALUATOR, now=datetime.now(UTC))
            voters.append(Voter(subject, web, csrf, {"Authorization": f"Bearer {token}"}, []))
        began = time.perf_counter()
        await start_battles(stack, replay.stage_id, voters, votes * rounds * 2)
        print(
            f"{voter_count} voters signed in; {votes * rounds * 2 * voter_count} battles started in "
            f"{time.perf_counter() - began:.1f} s",
            flush=True,
        )
        scoring = stack.services["scoring"].url
        pool = httpx.Limits(
            max_connections=voter_count, max_keepalive_connections=voter_count, keepalive_expiry=4.0
        )
        direct = httpx.AsyncClient(trust_env=False, timeout=120, limits=pool)
        voters_clients.append(direct)
        figures: dict[str, list[float]] = {"direct": [], "web": []}
        tails: dict[str, list[float]] = {"direct": [], "web": []}
        for number in range(rounds):
            order = ("direct", "web") if number % 2 == 0 else ("web", "direct")
            for side in order:
                slot = (number * 2 + (0 if side == "direct" else 1)) * votes
                batch = {v.subject: v.battles[slot : slot + votes] for v in voters}
                if side == "direct":
                    wall, latencies = await direct_side(direct, scoring, voters, batch)
                else:
                    wall, latencies = await web_side(replay.stage_id, voters, batch)
                rate = len(latencies) / wall
                figures[side].append(rate)
                tails[side] += latencies
                p50, p99 = quantile(latencies, 0.5) * 1000, quantile(latencies, 0.99) * 1000
                print(
                    f"round {number + 1} {side:>6}: {len(latencies)} votes in {wall:.2f} s = {rate:7.1f} "
                    f"votes/s, p50 {p50:6.1f} ms, p99 {p99:6.1f} ms",
                    flush=True,
                )
        direct_rate, web_rate = statistics.median(figures["direct"]), statistics.median(figures["web"])
        return {
            "voters": voter_count,
            "votes_per_voter_per_side_per_round": votes,
            "rounds": rounds,
            "direct_votes_per_s": round(direct_rate, 1),
            "web_votes_per_s": round(web_rate, 1),
            "direct_p99_ms": round(quantile(tails["direct"], 0.99) * 1000, 1),
            "web_p99_ms": round(quantile(tails["web"], 0.99) * 1000, 1),
            "ratio": round(web_rate / direct_rate, 3),
        }
    finally:
        for voter in voters:
            await voter.web.aclose()
        for client in voters_clients:
            await client.aclose()
        await replay.client.aclose()
        await asyncio.to_thread(stack.stop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=200)
    parser.add_argument("--votes", type=int, default=1, help="votes per voter per side per round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    result = asyncio.run(run(args.voters, args.votes, args.rounds))
    print(json.dumps(result))
    sys.exit(0 if float(str(result["ratio"])) >= 0.7 else 1)


if __name__ == "__main__":
    main()
