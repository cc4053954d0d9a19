"""`make demo` end to end: the `fmc demo` command prints the flow's outcome, exits 0, leaves no process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest

pytestmark = [pytest.mark.broker, pytest.mark.triton]

TEAMS = ["Naver Cloud", "Upstage", "SK Telecom", "NC AI", "LG AI Research"]


def processes_marked_with(run_id: str) -> list[int]:
    """Live processes whose environment carries the demo's run id (its children and grandchildren)."""
    marker = f"FMC_DEV_RUN_ID={run_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                state = (entry / "stat").read_text().split()[2]
                if state != "Z":
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


class TestDemo:
    def test_demo_registers_the_teams_reports_and_stops_everything(self, tmp_path: Path) -> None:
        run_id = f"test-{uuid.uuid4().hex[:10]}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FMC_")} | {"FMC_DEV_RUN_ID": run_id}
        report_dir = tmp_path / "report"
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "fmc_devrunner.cli",
                "demo",
                "--var-dir",
                str(tmp_path / "var"),
                "--report-dir",
                str(report_dir),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
        out = completed.stdout
        assert "result: OK" in out
        for team in TEAMS:
            assert f"{team} consortium" in out
        assert "demo-lm v1 READY" in out
        report = json.loads((report_dir / "report.json").read_text())
        assert report["ok"] is True
        assert len(report["teams"]) == 5
        assert all(set(t["seen_by"]) == {"scoring", "grievance"} for t in report["teams"])
        assert processes_marked_with(run_id) == []


class TestDevUp:
    def test_dev_up_prints_the_urls_serves_and_stops_cleanly_on_sigterm(self, tmp_path: Path) -> None:
        run_id = f"test-{uuid.uuid4().hex[:10]}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FMC_")} | {"FMC_DEV_RUN_ID": run_id}
        process = subprocess.Popen(
            [sys.executable, "-m", "fmc_devrunner.cli", "dev", "up", "--var-dir", str(tmp_path / "var")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: list[str] = []
        try:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                if line.startswith("ready."):
                    break
            urls = [line.split()[2] for line in lines if " ready  http://" in line]
            assert len(urls) == 4, "".join(lines)
            for url in urls:
                with urllib.request.urlopen(f"{url}/readyz", timeout=5) as response:
                    assert response.status == 200
            process.send_signal(signal.SIGTERM)
            rest, _ = process.communicate(timeout=90)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == 0, "".join(lines) + rest
        assert "stopped." in rest
        assert (tmp_path / "var" / "logs" / "registry.log").exists()
        assert processes_marked_with(run_id) == []
