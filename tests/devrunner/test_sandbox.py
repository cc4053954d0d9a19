"""`fmc dev up` as a sandbox: stable documented ports, a clear refusal when one is taken, the teams'
models on Triton, the dev clock read and moved by `fmc dev clock`, and a clean stop on SIGTERM."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fmc_devrunner.stack import DEFAULT_PORTS
from support.devrunner import marked_env, processes_marked_with

ROOT = Path(__file__).resolve().parents[2]
FMC = [sys.executable, "-m", "fmc_devrunner.cli"]


def fmc(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FMC, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False, cwd=ROOT
    )


class TestPorts:
    def test_the_stable_ports_are_the_ones_docs_sandbox_lists(self) -> None:
        text = (ROOT / "docs" / "sandbox.md").read_text()
        documented = {
            name: int(port) for name, port in re.findall(r"^\| `([a-z-]+)` \| (\d+) \|", text, re.M)
        }
        assert documented == DEFAULT_PORTS
        assert len(set(DEFAULT_PORTS.values())) == len(DEFAULT_PORTS)

    def test_a_taken_port_stops_dev_up_with_a_clear_error_before_anything_starts(
        self, tmp_path: Path
    ) -> None:
        run_id, env = marked_env()
        with socket.socket() as holder:
            holder.bind(("127.0.0.1", 0))
            holder.listen()
            taken = holder.getsockname()[1]
            done = fmc(
                "dev",
                "up",
                "--free-ports",
                "--base-http-port",
                str(taken),
                "--var-dir",
                str(tmp_path),
                env=env,
            )
        assert done.returncode == 2, done.stdout + done.stderr
        assert f"registry {taken}" in done.stderr
        assert "--free-ports" in done.stderr
        assert processes_marked_with(run_id) == []
        assert not (tmp_path / "stack.json").exists()


class TestClockWithoutAStack:
    def test_the_clock_command_says_no_stack_runs_when_none_does(self, tmp_path: Path) -> None:
        _, env = marked_env()
        done = fmc("dev", "clock", "advance", "--days", "1", "--var-dir", str(tmp_path), env=env)
        assert done.returncode == 2
        assert "no running stack" in done.stderr
        assert "fmc dev up" in done.stderr
        assert not (tmp_path / "clock-offset").exists()


@pytest.mark.broker
@pytest.mark.triton
class TestRunningSandbox:
    def test_a_seeded_sandbox_serves_the_teams_models_its_clock_moves_and_sigterm_stops_it(
        self, tmp_path: Path
    ) -> None:
        run_id, env = marked_env()
        var = str(tmp_path / "var")
        process = subprocess.Popen(
            [*FMC, "dev", "up", "--free-ports", "--seed", "--var-dir", var],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
        )
        lines: list[str] = []
        try:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                if line.startswith("ready."):
                    break
            out = "".join(lines)
            assert "fmc token --role operator" in out, out
            assert "fmc dev clock advance" in out
            assert "docs/sandbox.md" in out
            state = json.loads((tmp_path / "var" / "stack.json").read_text())
            registry, triton = state["urls"]["registry"], state["urls"]["triton-http"]
            # The teams' simulated models of the replay, the newcomer's included, are served.
            for model in ("upstage-lm", "newcomer-ai-lab-lm"):
                with urllib.request.urlopen(f"{triton}/v2/models/{model}/ready", timeout=5) as response:
                    assert response.status == 200

            # The pages (docs/web.md), and the dev OpenID Connect provider they sign people in with.
            with urllib.request.urlopen(f"{state['urls']['web']}/", timeout=5) as response:
                assert response.status == 200
                assert "/static/app.css" in response.read().decode()
            discovery = f"{state['urls']['identity']}/.well-known/openid-configuration"
            with urllib.request.urlopen(discovery, timeout=5) as response:
                assert json.loads(response.read())["issuer"] == state["urls"]["identity"]

            # --seed: the seed programme through the registry's API, and the teams' weights files.
            seeded = json.loads((tmp_path / "var" / "seed.json").read_text())
            assert set(seeded["selected_team_ids"]) == {
                "Naver Cloud",
                "Upstage",
                "SK Telecom",
                "NC AI",
                "LG AI Research",
            }
            for path in seeded["weights"].values():
                assert (tmp_path / "var" / "weights" / path).is_file()
            assert seeded["programme_id"] in out

            shown = fmc("dev", "clock", "show", "--var-dir", var, env=env)
            assert shown.returncode == 0
            assert "ahead of the system clock by 0:00:00" in shown.stdout
            moved = fmc("dev", "clock", "advance", "--days", "11", "--var-dir", var, env=env)
            assert moved.returncode == 0, moved.stderr
            assert "ahead of the system clock by 11 days" in moved.stdout
            back = fmc("dev", "clock", "advance", "--to", "2020-01-01T00:00+09:00", "--var-dir", var, env=env)
            assert back.returncode == 2
            assert "only moves forward" in back.stderr

            # The registry, a separate process, now stamps what it records 11 days ahead.
            token = fmc("token", "--role", "operator", "--var-dir", var, env=env).stdout.strip()
            request = urllib.request.Request(
                f"{registry}/v1/teams",
                data=json.dumps({"name": "Sandbox consortium", "lead_organisation": "Sandbox AI"}).encode(),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                registered = datetime.fromisoformat(json.loads(response.read())["registered_at"])
            ahead = registered - datetime.now(UTC)
            assert timedelta(days=11) - timedelta(minutes=5) < ahead < timedelta(days=11, minutes=5)

            process.send_signal(signal.SIGTERM)
            rest, _ = process.communicate(timeout=90)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == 0, "".join(lines) + rest
        assert "stopped." in rest
        assert not (tmp_path / "var" / "stack.json").exists()
        assert processes_marked_with(run_id) == []
