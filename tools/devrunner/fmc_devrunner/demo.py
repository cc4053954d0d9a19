"""``make demo``: start the embedded stack, drive the flow through the public APIs, report, stop.

This round's flow proves the plumbing: the five selected teams of the seed articles are registered
in the registry over REST; each ``TeamRegistered`` event travels through the outbox and the broker
to scoring and grievance, which record the team; the gateway reports the health of a real Triton
server. Later rounds grow this into the full first-stage replay.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from fmc_common.auth import Role, mint_token
from fmc_common.settings import AuthSettings
from fmc_devrunner.stack import DevStack, StackConfig

SELECTED_TEAMS = (
    ("Naver Cloud consortium", "Naver Cloud"),
    ("Upstage consortium", "Upstage"),
    ("SK Telecom consortium", "SK Telecom"),
    ("NC AI consortium", "NC AI"),
    ("LG AI Research consortium", "LG AI Research"),
)


@dataclass
class TeamOutcome:
    name: str
    team_id: str
    correlation_id: str
    seen_by: dict[str, float] = field(default_factory=dict)  # service -> seconds until recorded


@dataclass
class Report:
    started_at: str
    steps: dict[str, float] = field(default_factory=dict)
    teams: list[TeamOutcome] = field(default_factory=list)
    triton: dict[str, Any] = field(default_factory=dict)
    ok: bool = False


class DemoFailed(RuntimeError):
    pass


def _headers(auth: AuthSettings, role: Role, correlation_id: str | None = None) -> dict[str, str]:
    token = mint_token(auth, subject="demo-operator", role=role, now=datetime.now(UTC))
    headers = {"Authorization": f"Bearer {token}"}
    if correlation_id:
        headers["X-Correlation-ID"] = correlation_id
    return headers


async def _register_teams(stack: DevStack, auth: AuthSettings, report: Report) -> None:
    registry = stack.services["registry"].url
    async with httpx.AsyncClient(base_url=registry, trust_env=False, timeout=10) as client:
        for name, lead in SELECTED_TEAMS:
            correlation_id = f"demo-{uuid.uuid4().hex[:12]}"
            response = await client.post(
                "/v1/teams",
                json={"name": name, "lead_organisation": lead},
                headers=_headers(auth, Role.OPERATOR, correlation_id) | {"Idempotency-Key": f"demo-{name}"},
            )
            if response.status_code != 201:
                raise DemoFailed(f"registering {name} failed: {response.status_code} {response.text}")
            report.teams.append(
                TeamOutcome(name=name, team_id=response.json()["id"], correlation_id=correlation_id)
            )
            print(f"  registered  {name:<28} {response.json()['id']}")


async def _await_recorded(stack: DevStack, auth: AuthSettings, report: Report, timeout: float = 60) -> None:
    started = time.perf_counter()
    pending = {(team.team_id, svc) for team in report.teams for svc in ("scoring", "grievance")}
    by_id = {team.team_id: team for team in report.teams}
    headers = _headers(auth, Role.SERVICE)
    async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
        while pending and time.perf_counter() - started < timeout:
            for team_id, service in sorted(pending):
                url = f"{stack.services[service].url}/v1/participants/{team_id}"
                response = await client.get(url, headers=headers)
                if response.status_code == 200:
                    if response.json()["correlation_id"] != by_id[team_id].correlation_id:
                        raise DemoFailed(f"{service} recorded {team_id} under another correlation id")
                    by_id[team_id].seen_by[service] = round(time.perf_counter() - started, 3)
                    pending.discard((team_id, service))
            await asyncio.sleep(0.1)
    if pending:
        raise DemoFailed(f"not recorded within {timeout}s: {sorted(pending)}")


async def _triton_status(stack: DevStack, auth: AuthSettings, report: Report) -> None:
    gateway = stack.services["inference-gateway"].url
    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        response = await client.get(f"{gateway}/v1/triton/status", headers=_headers(auth, Role.OPERATOR))
    if response.status_code != 200:
        raise DemoFailed(f"gateway could not reach Triton: {response.status_code} {response.text}")
    report.triton = response.json()


def _print_report(report: Report) -> None:
    print("\n=== Outcome ===")
    print(f"{'team':<28} {'registry id':<38} {'scoring':>9} {'grievance':>10}")
    for team in report.teams:
        print(
            f"{team.name:<28} {team.team_id:<38} {team.seen_by.get('scoring', 0):>8.2f}s"
            f" {team.seen_by.get('grievance', 0):>9.2f}s"
        )
    models = ", ".join(f"{m['name']} v{m['version']} {m['state']}" for m in report.triton.get("models", []))
    print(
        f"\nTriton {report.triton.get('server_version')} live={report.triton.get('live')} "
        f"ready={report.triton.get('ready')} models: {models}"
    )
    print("\n=== Timings ===")
    for step, seconds in report.steps.items():
        print(f"  {step:<32} {seconds:7.2f}s")
    print(f"\nresult: {'OK' if report.ok else 'FAILED'}")


def _write_report(report: Report, report_dir: Path) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / "report.json"
    path.write_text(json.dumps(asdict(report), indent=2, ensure_ascii=False))
    return path


async def run_demo(var_dir: Path, report_dir: Path) -> int:
    # The demo always starts from an empty embedded stack.
    await asyncio.to_thread(shutil.rmtree, var_dir, ignore_errors=True)
    report = Report(started_at=datetime.now(UTC).isoformat())
    stack = DevStack(StackConfig(var_dir))
    main_task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if main_task is not None:
        loop.add_signal_handler(signal.SIGTERM, main_task.cancel)
    print(f"starting the embedded stack (logs in {stack.logs}) ...")
    try:
        await stack.start()
        report.steps.update({f"start {k}": v for k, v in stack.timings.items()})
        auth = AuthSettings(jwt_secret=SecretStr(stack.jwt_secret))
        print("\nregistering the five selected teams through the registry's REST API ...")
        for label, step in (
            ("register teams (REST)", _register_teams(stack, auth, report)),
            ("events reach scoring+grievance", _await_recorded(stack, auth, report)),
            ("gateway -> Triton status", _triton_status(stack, auth, report)),
        ):
            started = time.perf_counter()
            await step
            report.steps[label] = time.perf_counter() - started
        report.ok = True
    except DemoFailed as failure:
        print(f"\nDEMO FAILED: {failure}")
    finally:
        print("\nstopping the stack ...")
        stack.stop()
    _print_report(report)
    written = await asyncio.to_thread(_write_report, report, report_dir)
    print(f"report written to {written}")
    return 0 if report.ok else 1
