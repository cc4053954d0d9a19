"""``fmc dev up``: a sandbox a newcomer can drive by hand through the services' REST APIs.

The stack of the replay (Tansu, Triton on the CPU, the four services on SQLite) on stable ports
(``stack.DEFAULT_PORTS``, listed in docs/sandbox.md), with the teams' SIMULATED models of the replay
served on Triton (plus the demo repository's ``demo-lm`` models), optionally the seed programme, and
a state file (``<var>/stack.json``) through which ``fmc dev clock`` finds the running stack.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from fmc_common.auth import Role
from fmc_common.clock import SEOUL
from fmc_common.dev_auth import mint_token
from fmc_devrunner.stack import (
    DEFAULT_PORTS,
    SERVICES,
    DevStack,
    StackConfig,
    advance_clock_file,
    dev_now,
    read_clock_offset,
)
from fmc_devrunner.stage1 import models, world
from fmc_devrunner.stage1.scenario import ALL_SUITES
from fmc_devrunner.stage2 import world as world2
from fmc_devrunner.stage2.scenario import write_newcomer_weights
from fmc_devrunner.triton import DEFAULT_MODEL_REPOSITORY
from fmc_registry import seed as seed_programme
from fmc_scoring.originality import demo_weights

STATE_FILE = "stack.json"
SEED_FILE = "seed.json"
CLOCK_FILE = "clock-offset"  # DevStack.clock_file
TEAM_MODELS = (*world.TEAM_MODELS, world2.NEWCOMER)


class ClockError(RuntimeError):
    """``fmc dev clock`` cannot do what was asked (no running stack, a step back in time)."""


def build_models(directory: Path) -> tuple[str, ...]:
    """The six teams' SIMULATED models (every demo suite) and the demo repository's models."""
    models.build_repository(directory, TEAM_MODELS, models.demo_questions(ALL_SUITES))
    for source in sorted(p for p in DEFAULT_MODEL_REPOSITORY.iterdir() if p.is_dir()):
        if not (directory / source.name).exists():  # the judge model is already there
            shutil.copytree(source, directory / source.name)
    return tuple(sorted(p.name for p in directory.iterdir() if (p / "config.pbtxt").exists()))


async def prepare(
    var_dir: Path,
    *,
    free_ports: bool = False,
    broker_port: int = 0,
    base_http_port: int = 0,
    fresh: bool = False,
) -> DevStack:
    if fresh:
        await asyncio.to_thread(shutil.rmtree, var_dir, ignore_errors=True)
    repository = var_dir / "model_repository"
    names = await asyncio.to_thread(build_models, repository)
    fixed = {} if free_ports else dict(DEFAULT_PORTS)
    if base_http_port:
        fixed |= {spec.name: base_http_port + index for index, spec in enumerate(SERVICES)}
    if broker_port:
        fixed["broker"] = broker_port
    config = StackConfig(
        var_dir, fixed_ports=fixed, model_repository=repository, load_models=names, with_web=True
    )
    return DevStack(config)


async def seed(stack: DevStack) -> dict[str, Any]:
    """The seed programme through the registry's API (once per var dir), and the teams' weights files."""
    seed_file = stack.config.var_dir / SEED_FILE
    if seed_file.exists():
        return dict(json.loads(seed_file.read_text()))
    token = mint_token(stack.auth, subject="operator-sandbox", role=Role.OPERATOR, now=datetime.now(SEOUL))
    base = stack.services["registry"].url
    async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=30) as registry:
        loaded = await seed_programme.load_seed_programme(registry, {"Authorization": f"Bearer {token}"})
    demo_weights.write_demo_weights(stack.weights_root)
    write_newcomer_weights(stack.weights_root)
    selected = {t.lead for t in seed_programme.SELECTED}
    seeded = {
        "programme_id": str(loaded.programme_id),
        "stage_ids": {str(n): str(i) for n, i in loaded.stage_ids.items()},
        "selected_team_ids": {lead: str(i) for lead, i in loaded.team_ids.items() if lead in selected},
        "team_models": {m.lead: m.model_name for m in TEAM_MODELS},
        "weights": {
            lead: f"teams/{demo_weights.team_directory(lead)}/model.safetensors"
            for lead in (*demo_weights.TEAMS, world2.NEWCOMER.lead)
        },
        "donor_weights": "donor/model.safetensors",
        "simulated": "the models, weights and all figures are SIMULATED (docs/stage1-replay.md)",
    }
    seed_file.write_text(json.dumps(seeded, indent=2, ensure_ascii=False))
    return seeded


def urls(stack: DevStack) -> dict[str, str]:
    found = {name: service.url for name, service in stack.services.items()}
    if stack.broker is not None:
        found["broker"] = stack.broker.bootstrap
    if stack.triton is not None:
        found["triton-http"] = stack.triton.http_url
        found["triton-grpc"] = stack.triton.grpc_url
    if stack.web is not None:
        found["web"] = stack.web.url
        found["identity"] = stack.web.identity_url
    return found


def write_state(stack: DevStack, seeded: dict[str, Any] | None) -> Path:
    """``<var>/stack.json``: the running stack's process, URLs and models (``fmc dev clock`` reads it)."""
    path = stack.config.var_dir / STATE_FILE
    state = {
        "pid": os.getpid(),
        "run_id": stack.config.run_id,
        "urls": urls(stack),
        "models": list(stack.config.load_models),
        "clock_file": str(stack.clock_file.resolve()),
        "weights_root": str(stack.weights_root.resolve()),
        "seed": seeded,
    }
    path.write_text(json.dumps(state, indent=2, ensure_ascii=False))
    return path


def clear_state(stack: DevStack) -> None:
    (stack.config.var_dir / STATE_FILE).unlink(missing_ok=True)


def summary(stack: DevStack, seeded: dict[str, Any] | None) -> str:
    var = stack.config.var_dir
    rows = [("service", "URL", "API docs")]
    rows += [(name, service.url, f"{service.url}/docs") for name, service in stack.services.items()]
    if stack.web is not None:
        rows += [("web (pages)", stack.web.url, "docs/web.md: arena, results, console")]
        rows += [("sign-in (dev OIDC)", stack.web.identity_url, "any subject, role and team id")]
    found = urls(stack)
    rows += [("broker (Kafka)", found.get("broker", "-"), "docs/events.md")]
    rows += [("triton http", found.get("triton-http", "-"), "/v2/models/<name>/ready")]
    rows += [("triton grpc", found.get("triton-grpc", "-"), "what a submission's endpoint names")]
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["", *("  ".join(c.ljust(w) for c, w in zip(row, width, strict=True)) for row in rows)]
    lines += [
        "",
        "models on Triton (SIMULATED teams' models): " + ", ".join(stack.config.load_models),
        "",
        "tokens:     fmc token --role operator"
        f"{_var_flag(var)}   |   fmc token --role team --team-id <id>{_var_flag(var)}"
        f"   |   fmc token --role evaluator --subject expert-kim{_var_flag(var)}",
        f"dev clock:  fmc dev clock show{_var_flag(var)}"
        f"   |   fmc dev clock advance --days 11{_var_flag(var)}",
        f"state:      {var / STATE_FILE} (URLs, models){'' if seeded is None else f', {var / SEED_FILE}'}",
        "walk-through: docs/sandbox.md (curl, step by step); the replay: docs/stage1-replay.md",
    ]
    if seeded is not None:
        lines += ["", f"seed programme {seeded['programme_id']}; stages " + str(seeded["stage_ids"])]
        lines += [f"  {lead:<16} team {team_id}" for lead, team_id in seeded["selected_team_ids"].items()]
    return "\n".join(lines)


def _var_flag(var: Path) -> str:
    return "" if var == Path("var/dev") else f" --var-dir {var}"


def _running(var_dir: Path) -> dict[str, Any]:
    path = var_dir / STATE_FILE
    if not path.exists():
        raise ClockError(f"no running stack in {var_dir} (no {STATE_FILE}): start one with `fmc dev up`")
    state: dict[str, Any] = json.loads(path.read_text())
    try:
        os.kill(int(state["pid"]), 0)
    except ProcessLookupError as gone:
        raise ClockError(
            f"the stack of {path} (pid {state['pid']}) is not running: start one with `fmc dev up`"
        ) from gone
    except PermissionError:
        pass  # alive, another user's
    return state


def _describe(clock_file: Path) -> str:
    now = dev_now(clock_file)
    offset = timedelta(seconds=round(read_clock_offset(clock_file)))
    return (
        f"dev clock: {now.strftime('%Y-%m-%dT%H:%M:%SZ')} "
        f"({now.astimezone(SEOUL).strftime('%Y-%m-%d %H:%M')} Asia/Seoul); "
        f"ahead of the system clock by {offset} ({clock_file})"
    )


def clock_show(var_dir: Path) -> str:
    state = _running(var_dir)
    return _describe(Path(state["clock_file"]))


def clock_delta(var_dir: Path, days: float, hours: float, minutes: float, to: datetime | None) -> timedelta:
    state = _running(var_dir)
    if to is not None:
        if to.tzinfo is None:
            raise ClockError("--to needs an offset, e.g. 2026-01-26T00:01+09:00")
        delta = to - dev_now(Path(state["clock_file"]))
        if delta <= timedelta(0):
            raise ClockError(f"the dev clock only moves forward; {_describe(Path(state['clock_file']))}")
        return delta
    delta = timedelta(days=days, hours=hours, minutes=minutes)
    if delta <= timedelta(0):
        raise ClockError("say how far forward: --days, --hours, --minutes or --to (never back)")
    return delta


def clock_advance(var_dir: Path, delta: timedelta) -> str:
    state = _running(var_dir)
    clock_file = Path(state["clock_file"])
    advance_clock_file(clock_file, delta)
    return f"advanced by {delta}; every service of the stack now reads the new time\n{_describe(clock_file)}"
